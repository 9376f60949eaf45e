import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parcours.directory.forms import CommaListField
from parcours.directory.models import Professional
from parcours.lib.nir import nir_error, nir_format, nir_normalise
from parcours.territory.models import Commune

from . import services
from .models import Consent, IdentityStatus, MedecinTraitantStatus, Person

_BIRTH_PLACE = re.compile(r"^(?:[0-9]{5}|2[AB][0-9]{3})$")
_POSTAL_CODE = re.compile(r"^[0-9]{5}$")
_RPPS = re.compile(r"^[0-9]{11}$")
ALD_NUMBERS = [str(number) for number in range(1, 33)]  # 31: hors liste, 32: polypathologie


class ListField(CommaListField):
    """Comma-separated words, the typed text at most ``max_length`` characters long."""

    def to_python(self, value):
        if value and len(value) > self.max_length:
            raise forms.ValidationError(
                _("Ce texte compte %(count)d caractères : %(max)d au plus.")
                % {"count": len(value), "max": self.max_length}
            )
        return super().to_python(value)


class NirField(forms.CharField):
    """The NIR typed with or without spaces, dots or dashes; shown grouped."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault(
            "help_text",
            _("15 caractères, clé comprise ; les espaces sont acceptés : 2 55 08 14 168 025 38."),
        )
        super().__init__(**kwargs)
        self.widget.attrs.update(autocomplete="off", inputmode="text", spellcheck="false")

    def prepare_value(self, value):
        return nir_format(value) if isinstance(value, str) else value

    def clean(self, value):
        value = nir_normalise(super().clean(value))
        if value and (message := nir_error(value)):
            raise forms.ValidationError(message, code="nir")
        return value


class PersonForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    nir = NirField(label=_("NIR (numéro de sécurité sociale)"), required=False)
    birth_date = forms.DateField(
        label=_("Date de naissance"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Saisissez une date valide, par exemple 14/03/1956.")},
    )
    languages = ListField(
        label=_("Langues parlées"),
        required=False,
        max_length=300,
        help_text=_("Séparées par des virgules, par exemple : français, arabe."),
    )
    ald = ListField(
        label=_("ALD (numéros de la liste)"),
        required=False,
        max_length=200,
        help_text=_("Séparés par des virgules, de 1 à 30 ; 31 hors liste, 32 polypathologie."),
    )
    medecin_traitant_rpps = forms.CharField(
        label=_("RPPS du médecin traitant"),
        required=False,
        max_length=20,
        help_text=_("11 chiffres, si le médecin est dans l'annuaire."),
    )
    children_in_charge = forms.IntegerField(
        label=_("Enfants à charge"), required=False, min_value=0, max_value=30
    )

    SECTIONS = (
        (
            _("Identité"),
            (
                "birth_name",
                "used_name",
                "first_names",
                "used_first_name",
                "birth_date",
                "sex",
                "birth_place_code",
                "nir",
                "identity_status",
            ),
        ),
        (
            _("Coordonnées"),
            ("phone", "phone_2", "email", "address", "postal_code", "commune", "languages"),
        ),
        (_("Médecin traitant"), ("medecin_traitant_status", "medecin_traitant_rpps")),
        (_("Couverture sociale"), ("regime", "c2s", "ame", "mutuelle", "ald")),
        (
            _("Situation sociale"),
            (
                "lives_alone",
                "housing",
                "resources",
                "children_in_charge",
                "single_parent",
                "social_worker",
                "hospitalised_last_4_years",
            ),
        ),
    )

    class Meta:
        model = Person
        # What may be edited is the service's rule; the médecin traitant is typed by RPPS
        # number (medecin_traitant_rpps above) and resolved to the directory entry.
        fields = [name for name in services.EDITABLE_FIELDS if name != "medecin_traitant"]
        help_texts = {
            "birth_place_code": _("Code INSEE de la commune, ou 99 suivi du code du pays."),
            "used_name": _("Si différent du nom de naissance (nom d'usage, d'époux·se)."),
        }

    def __init__(self, *args, communes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commune"].queryset = (
            communes if communes is not None else Commune.objects.none()
        )
        statuses = {IdentityStatus.PROVISIONAL, IdentityStatus.VALIDATED}
        statuses.add(self.instance.identity_status)  # récupérée, qualifiée: set by the INSi
        self.fields["identity_status"].choices = [
            choice for choice in IdentityStatus.choices if choice[0] in statuses
        ]
        self.fields["identity_status"].help_text = _(
            "« Validée » quand une pièce d'identité a été vérifiée."
        )
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            if self.instance.medecin_traitant_id:
                self.fields["medecin_traitant_rpps"].initial = self.instance.medecin_traitant.rpps

    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def clean_birth_date(self):
        birth_date = self.cleaned_data.get("birth_date")
        if message := services.birth_date_error(birth_date):
            raise forms.ValidationError(message)
        return birth_date

    def clean_birth_place_code(self):
        code = (self.cleaned_data.get("birth_place_code") or "").strip().upper()
        if code and not _BIRTH_PLACE.match(code):
            raise forms.ValidationError(
                _("Le code INSEE compte 5 caractères : 69259, 2A004, ou 99352 pour un pays.")
            )
        return code

    def clean_postal_code(self):
        code = (self.cleaned_data.get("postal_code") or "").strip()
        if code and not _POSTAL_CODE.match(code):
            raise forms.ValidationError(_("Le code postal compte 5 chiffres."))
        return code

    def clean_ald(self):
        numbers = [item.lstrip("0") or "0" for item in self.cleaned_data.get("ald") or []]
        if unknown := [n for n in numbers if n not in ALD_NUMBERS]:
            raise forms.ValidationError(
                _("Numéro d'ALD inconnu : %(numbers)s (de 1 à 32).")
                % {"numbers": ", ".join(unknown[:5])[:60]}
            )
        return sorted(set(numbers), key=int)

    def clean_medecin_traitant_rpps(self):
        rpps = re.sub(r"\s+", "", self.cleaned_data.get("medecin_traitant_rpps") or "")
        if not rpps:
            return None
        if not _RPPS.match(rpps):
            raise forms.ValidationError(_("Le numéro RPPS compte 11 chiffres."))
        professional = Professional.objects.filter(rpps=rpps).first()
        if professional is None:
            raise forms.ValidationError(_("Aucun professionnel de l'annuaire n'a ce numéro RPPS."))
        return professional

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("medecin_traitant_rpps"):
            cleaned["medecin_traitant_status"] = MedecinTraitantStatus.KNOWN
        return cleaned

    def person_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.Meta.fields}
        data["nir"] = data.get("nir") or ""
        data["medecin_traitant"] = self.cleaned_data.get("medecin_traitant_rpps")
        return data


class PersonCreateForm(PersonForm):
    """Creation: when possible duplicates were shown, creating needs a confirmation."""

    confirm_duplicates = forms.BooleanField(
        label=_("J'ai vérifié : il s'agit d'une autre personne, créer la fiche quand même."),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["version"]


class PersonSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Rechercher une personne"),
        max_length=100,
        required=False,
        help_text=_("Nom, prénom, date de naissance (14/03/1956) ou début du NIR."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Finalité"), choices=Consent.Purpose.choices)
    scope = forms.ChoiceField(
        label=_("Périmètre du partage"),
        choices=Consent.Scope.choices,
        widget=forms.RadioSelect,
        initial=Consent.Scope.TEAM,
    )
    categories = forms.MultipleChoiceField(
        label=_("Catégories de données"),
        choices=Consent.Category.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choisissez au moins une catégorie de données.")},
    )
    method = forms.ChoiceField(label=_("Recueilli"), choices=Consent.Method.choices)
    collected_at = forms.DateTimeField(
        label=_("Recueilli le"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("Saisissez une date et une heure valides.")},
    )
    collected_by_name = forms.CharField(
        label=_("Recueilli par (si ce n'est pas vous)"),
        max_length=200,
        required=False,
        help_text=_("Le nom et la fonction du professionnel qui a recueilli le consentement."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("collected_at", timezone.localtime().replace(second=0))
        super().__init__(*args, **kwargs)


class MergeForm(forms.Form):
    keep = forms.ChoiceField(label=_("Fiche à conserver"), widget=forms.RadioSelect)

    def __init__(self, *args, person: Person, other: Person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [
            (str(person.pk), _("La fiche n° %(id)s") % {"id": person.pk}),
            (str(other.pk), _("La fiche n° %(id)s") % {"id": other.pk}),
        ]
        self.fields["keep"].initial = str(person.pk)
