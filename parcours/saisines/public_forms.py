"""Forms of the public saisine pages: the resident's request and the professional's.

Both face the internet, so every text field has a maximum length, text is normalised (NFC)
and refused when it holds NUL bytes, control characters or invisible characters that
change the writing direction (they can make a text display differently from what it is);
zero-width spaces are removed. Names accept letters, spaces, apostrophes, dots and hyphens
only. Labels are plain language and translated (Django's catalogues, ``locale/``).

The person is not created as a ``Person`` here: the triage identifies them later. Their
identity goes into the saisine's ``anonymous_description`` (a short structured text, in the
staff's language) and the requester's contact details into the ``requester_*`` fields.
"""

import datetime
import re
import secrets
import unicodedata

from django import forms
from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from phonenumber_field.formfields import PhoneNumberField

from .attachments import MAX_FILES, attachments_validate
from .models import Bulletin, Origin, Urgency

# --- Vocabularies ----------------------------------------------------------------------------

# Codes stored in Saisine.requests, by bulletin (staff forms should use the same codes).
REQUESTS_SOINS = (
    ("washing", gettext_lazy("Aide à domicile pour la toilette")),
    ("injections", gettext_lazy("Injections, soins infirmiers")),
    ("pill_organiser", gettext_lazy("Préparation du pilulier")),
    ("home_care", gettext_lazy("Autres soins à domicile")),
    ("specialist", gettext_lazy("Accès à un spécialiste")),
    ("medecin_traitant", gettext_lazy("Trouver un médecin traitant")),
)
REQUESTS_MEDICO_SOCIAL = (
    ("rights", gettext_lazy("Accès aux droits (C2S, AME, ALD, MDPH…)")),
    ("housing", gettext_lazy("Logement, hébergement")),
    ("resources", gettext_lazy("Ressources")),
    ("isolation", gettext_lazy("Isolement")),
    ("autonomy", gettext_lazy("Perte d'autonomie, aide à la vie quotidienne")),
    ("complex_situation", gettext_lazy("Accompagnement d'une situation complexe")),
)
REQUEST_LABELS = dict(REQUESTS_SOINS + REQUESTS_MEDICO_SOCIAL)

# Languages a resident may speak (ISO 639 codes, as the directory's ``languages``).
SPOKEN_LANGUAGES = (
    ("fr", gettext_lazy("Français")),
    ("en", gettext_lazy("Anglais")),
    ("ar", gettext_lazy("Arabe")),
    ("ber", gettext_lazy("Berbère")),
    ("es", gettext_lazy("Espagnol")),
    ("pt", gettext_lazy("Portugais")),
    ("it", gettext_lazy("Italien")),
    ("de", gettext_lazy("Allemand")),
    ("ro", gettext_lazy("Roumain")),
    ("ru", gettext_lazy("Russe")),
    ("uk", gettext_lazy("Ukrainien")),
    ("tr", gettext_lazy("Turc")),
    ("fa", gettext_lazy("Persan")),
    ("ps", gettext_lazy("Pachto")),
    ("zh", gettext_lazy("Chinois")),
    ("wo", gettext_lazy("Wolof")),
    ("fse", gettext_lazy("Langue des signes française")),
)

YES, NO, UNKNOWN = "yes", "no", "unknown"
HAS_MT_CHOICES = (
    (YES, gettext_lazy("Oui")),
    (NO, gettext_lazy("Non")),
    (UNKNOWN, gettext_lazy("Je ne sais pas")),
)
SEX_CHOICES = (
    ("", gettext_lazy("Non précisé")),
    ("F", gettext_lazy("Femme")),
    ("M", gettext_lazy("Homme")),
)
OTHER_COMMUNE = "autre"

# --- Text that faces the internet ------------------------------------------------------------

# Invisible characters that change the display direction ("Trojan Source" tricks).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Invisible characters that carry nothing: removed.
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u2060\ufeff"))
NAME_PUNCTUATION = frozenset(" '’-.")
SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def clean_public_text(value: str) -> str:
    """NFC, zero-width spaces removed; NUL, control and direction characters refused."""
    value = unicodedata.normalize("NFC", value).translate(ZERO_WIDTH)
    if "\x00" in value:
        raise forms.ValidationError(
            _(
                "Le texte contient un caractère nul, qui n'est pas accepté. Retirez-le "
                "(il vient souvent d'un copier-coller)."
            ),
            code="null_character",
        )
    if any(char in BIDI_CONTROLS for char in value):
        raise forms.ValidationError(
            _(
                "Le texte contient un caractère invisible qui change le sens d'écriture, "
                "qui n'est pas accepté. Retirez-le (il vient souvent d'un copier-coller)."
            ),
            code="bidi_control",
        )
    if any(unicodedata.category(char) == "Cc" and char not in "\t\n\r" for char in value):
        raise forms.ValidationError(
            _(
                "Le texte contient un caractère de contrôle invisible, qui n'est pas accepté. "
                "Retirez-le (il vient souvent d'un copier-coller)."
            ),
            code="control_character",
        )
    return value


class PublicTextField(forms.CharField):
    """A text field of a public form: a maximum length always, clean text."""

    def __init__(self, *, max_length: int, **kwargs):
        super().__init__(max_length=max_length, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return clean_public_text(value) if value else value


class NameField(PublicTextField):
    """A person's name: letters (any script), spaces, apostrophes, dots and hyphens."""

    def __init__(self, *, max_length: int = 100, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "off"}))
        super().__init__(max_length=max_length, **kwargs)

    def validate(self, value):
        super().validate(value)
        if value and not all(
            unicodedata.category(char)[0] in "LM" or char in NAME_PUNCTUATION for char in value
        ):
            raise forms.ValidationError(
                _(
                    "Ce champ n'accepte que des lettres, des espaces, des apostrophes, "
                    "des points et des tirets."
                ),
                code="name_characters",
            )


class PublicPhoneField(PhoneNumberField):
    """A phone number; NUL, control and direction characters refused like in any text
    (the phone number library would silently skip some of them)."""

    def to_python(self, value):
        if isinstance(value, str) and value:
            clean_public_text(value)
        return super().to_python(value)


def _textarea(rows: int = 4) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Up to ``MAX_FILES`` files, each checked by ``attachments.attachments_validate``."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(
                attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
            ),
        )
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        files = [super(AttachmentsField, self).clean(item, initial) for item in files]
        return attachments_validate(files)


class SubmissionKeyField(forms.CharField):
    """The hidden random key that makes a submission idempotent. A missing or malformed key
    (a page kept from an old version, a robot) is replaced by a fresh one, so the request
    still goes through; only the double-submit protection is lost for it."""

    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=64, widget=forms.HiddenInput, **kwargs)

    def clean(self, value):
        value = value if isinstance(value, str) else ""
        return value if SUBMISSION_KEY.match(value) else secrets.token_urlsafe(24)


def _birth_date_field(label) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        help_text=gettext_lazy("Par exemple 12/04/1958."),
    )


def _check_birth_date(value: datetime.date | None) -> None:
    if value and not datetime.date(1900, 1, 1) <= value <= timezone.localdate():
        raise forms.ValidationError(
            _("Vérifiez la date de naissance : elle doit être passée et après 1900."),
            code="birth_date",
        )


class PublicSaisineForm(forms.Form):
    """What both public forms share: the commune list, the honeypot, the submission key."""

    # The honeypot: hidden from people (CSS and aria-hidden), filled by robots. See
    # public_views.py for what happens when it is filled.
    website = forms.CharField(
        label=gettext_lazy("Ne remplissez pas ce champ"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    # One saisine per submission key, whatever the double clicks and retries.
    submission_key = SubmissionKeyField()

    HONEYPOT = "website"

    def __init__(self, *args, communes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.communes = {commune.insee: commune for commune in communes}
        if not self.is_bound:
            self.initial.setdefault("submission_key", secrets.token_urlsafe(24))
        self._setup_commune()

    def _setup_commune(self) -> None:
        field = self.fields.get(self.COMMUNE_FIELD)
        if field is None:
            return
        choices = [(insee, commune.name) for insee, commune in self.communes.items()]
        field.choices = [
            ("", _("— Choisissez —")),
            *choices,
            (OTHER_COMMUNE, _("Une autre commune")),
        ]

    COMMUNE_FIELD = ""

    @property
    def honeypot_filled(self) -> bool:
        return bool(str(self.data.get(self.HONEYPOT, "")).strip())

    def _commune_label(self, insee_field: str, other_field: str) -> str:
        code = self.cleaned_data.get(insee_field)
        if code == OTHER_COMMUNE:
            return self.cleaned_data.get(other_field, "")
        commune = self.communes.get(code)
        return f"{commune.name} ({commune.insee})" if commune else ""

    def _require_other_commune(self, insee_field: str, other_field: str) -> None:
        if self.cleaned_data.get(insee_field) == OTHER_COMMUNE and not self.cleaned_data.get(
            other_field
        ):
            self.add_error(other_field, _("Indiquez le nom de la commune."))


def _describe(lines: list[tuple[str, str]]) -> str:
    return "\n".join(f"{label} : {value}" for label, value in lines if value)


def _person_line(first_name: str, last_name: str, birth_date: datetime.date | None) -> str:
    name = f"{first_name} {last_name.upper()}".strip()
    if birth_date:
        born = _("née ou né le %(date)s") % {"date": date_format(birth_date, "SHORT_DATE_FORMAT")}
        return f"{name}, {born}"
    return name


class ResidentForm(PublicSaisineForm):
    """The resident's request: plain language, short; no health data beyond the need."""

    SELF, RELATIVE = "self", "relative"
    COMMUNE_FIELD = "commune"

    asker = forms.ChoiceField(
        label=gettext_lazy("Qui fait la demande ?"),
        choices=(
            (SELF, gettext_lazy("Moi, pour moi-même")),
            (RELATIVE, gettext_lazy("Moi, pour un proche")),
        ),
        widget=forms.RadioSelect,
    )
    relative_name = NameField(
        label=gettext_lazy("Votre prénom et votre nom"),
        max_length=150,
        required=False,
        help_text=gettext_lazy("Seulement si vous faites la demande pour un proche."),
    )
    first_name = NameField(label=gettext_lazy("Prénom de la personne"))
    last_name = NameField(label=gettext_lazy("Nom de la personne"))
    birth_date = _birth_date_field(gettext_lazy("Date de naissance de la personne"))
    phone = PublicPhoneField(
        label=gettext_lazy("Téléphone"),
        required=False,
        region="FR",
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        help_text=gettext_lazy("Pour vous rappeler. Un téléphone ou un e-mail au moins."),
    )
    email = forms.EmailField(
        label=gettext_lazy("Adresse e-mail"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=gettext_lazy("Nous vous y enverrons le lien pour suivre votre demande."),
    )
    commune = forms.ChoiceField(label=gettext_lazy("Commune où vit la personne"))
    commune_other = PublicTextField(
        label=gettext_lazy("Nom de la commune"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Si la commune n'est pas dans la liste."),
    )
    has_mt = forms.ChoiceField(
        label=gettext_lazy("La personne a-t-elle un médecin traitant ?"),
        choices=HAS_MT_CHOICES,
        widget=forms.RadioSelect,
    )
    NEED_MT, NEED_OTHER = "medecin_traitant", "other"
    need = forms.ChoiceField(
        label=gettext_lazy("De quoi avez-vous besoin ?"),
        choices=(
            (NEED_MT, gettext_lazy("Trouver un médecin traitant")),
            (NEED_OTHER, gettext_lazy("Autre chose")),
        ),
        widget=forms.RadioSelect,
    )
    need_other = PublicTextField(
        label=gettext_lazy("Expliquez votre besoin en quelques mots"),
        max_length=2000,
        required=False,
        widget=_textarea(),
        help_text=gettext_lazy(
            "Pas besoin de détails médicaux : l'équipe vous rappellera si nécessaire."
        ),
    )
    languages = forms.MultipleChoiceField(
        label=gettext_lazy("Langues parlées par la personne"),
        choices=SPOKEN_LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    languages_other = PublicTextField(
        label=gettext_lazy("Autre langue"), max_length=100, required=False
    )
    consent = forms.BooleanField(
        label=gettext_lazy("J'ai lu ces informations et j'accepte que ma demande soit traitée."),
        error_messages={
            "required": gettext_lazy(
                "Cochez cette case pour envoyer la demande : sans votre accord, l'équipe ne "
                "peut pas la traiter."
            )
        },
    )

    field_order = [
        "asker",
        "relative_name",
        "first_name",
        "last_name",
        "birth_date",
        "phone",
        "email",
        "commune",
        "commune_other",
        "has_mt",
        "need",
        "need_other",
        "languages",
        "languages_other",
        "consent",
        "website",
        "submission_key",
    ]

    def clean_birth_date(self):
        value = self.cleaned_data.get("birth_date")
        _check_birth_date(value)
        return value

    def clean(self):
        data = super().clean()
        if data.get("asker") == self.RELATIVE and not data.get("relative_name"):
            self.add_error("relative_name", _("Indiquez votre prénom et votre nom."))
        if not data.get("phone") and not data.get("email") and not self._has_error_on_contact():
            raise forms.ValidationError(
                _(
                    "Indiquez un téléphone ou une adresse e-mail, pour que l'équipe puisse "
                    "vous recontacter."
                ),
                code="no_contact",
            )
        if data.get("need") == self.NEED_OTHER and not data.get("need_other"):
            self.add_error("need_other", _("Expliquez votre besoin en quelques mots."))
        self._require_other_commune("commune", "commune_other")
        return data

    def _has_error_on_contact(self) -> bool:
        return "phone" in self.errors or "email" in self.errors

    def saisine_data(self) -> dict:
        """The saisine's fields (``saisine_create``'s ``data``)."""
        data = self.cleaned_data
        relative = data["asker"] == self.RELATIVE
        person_name = f"{data['first_name']} {data['last_name']}"
        with translation.override(settings.LANGUAGE_CODE):  # read by the staff
            description = self._description(relative)
        free_text = data["need_other"] if data["need"] == self.NEED_OTHER else ""
        return {
            "origin": Origin.RELATIVE if relative else Origin.RESIDENT,
            "channel": "web",
            "language": translation.get_language() or settings.LANGUAGE_CODE,
            "requester_name": data["relative_name"] if relative else person_name,
            "requester_phone": data["phone"] or "",
            "requester_email": data["email"] or "",
            "anonymous_description": description,
            "bulletin": Bulletin.SOINS,
            "requests": [self.NEED_MT] if data["need"] == self.NEED_MT else [],
            "urgency": Urgency.NORMAL,
            "free_text": free_text,
            "consent_given": True,
        }

    def _description(self, relative: bool) -> str:
        data = self.cleaned_data
        languages = [str(label) for code, label in SPOKEN_LANGUAGES if code in data["languages"]]
        if data["languages_other"]:
            languages.append(data["languages_other"])
        return _describe(
            [
                (
                    _("Personne"),
                    _person_line(data["first_name"], data["last_name"], data["birth_date"]),
                ),
                (_("Commune"), self._commune_label("commune", "commune_other")),
                (_("Médecin traitant"), str(dict(HAS_MT_CHOICES)[data["has_mt"]])),
                (_("Langues parlées"), ", ".join(languages)),
                (
                    _("Demande faite par"),
                    _("un proche de la personne") if relative else _("la personne elle-même"),
                ),
            ]
        )


PROFESSIONAL_ORIGINS = tuple(
    (value, label)
    for value, label in Origin.choices
    if value not in (Origin.RESIDENT, Origin.RELATIVE)
)


class ProfessionalForm(PublicSaisineForm):
    """A professional's saisine: requester, bulletin (soins or médico-social), the person,
    urgency, free text, attachments, the person's consent."""

    COMMUNE_FIELD = "person_commune"

    requester_name = NameField(label=gettext_lazy("Votre prénom et votre nom"), max_length=150)
    requester_role = PublicTextField(
        label=gettext_lazy("Votre fonction"),
        max_length=150,
        help_text=gettext_lazy("Par exemple : médecin généraliste, assistante sociale, IDE."),
    )
    requester_organisation = PublicTextField(
        label=gettext_lazy("Votre structure ou cabinet"), max_length=200, required=False
    )
    requester_rpps = forms.RegexField(
        label=gettext_lazy("Votre numéro RPPS"),
        regex=r"^\d{11}$",
        max_length=11,
        required=False,
        error_messages={"invalid": gettext_lazy("Le numéro RPPS compte 11 chiffres.")},
        help_text=gettext_lazy("Pour les professionnels de santé ; sinon, votre structure."),
    )
    requester_phone = PublicPhoneField(
        label=gettext_lazy("Votre téléphone"),
        required=False,
        region="FR",
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    requester_email = forms.EmailField(
        label=gettext_lazy("Votre adresse e-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=gettext_lazy(
            "Vous recevrez un lien pour confirmer cette adresse ; l'équipe vous répondra à "
            "cette adresse."
        ),
    )
    origin = forms.ChoiceField(
        label=gettext_lazy("Vous êtes"), choices=PROFESSIONAL_ORIGINS, widget=forms.RadioSelect
    )
    bulletin = forms.ChoiceField(
        label=gettext_lazy("Bulletin"), choices=Bulletin.choices, widget=forms.RadioSelect
    )
    difficulty = PublicTextField(
        label=gettext_lazy("Difficulté rencontrée"),
        max_length=2000,
        widget=_textarea(),
        help_text=gettext_lazy("Ce qui pose problème aujourd'hui, en quelques lignes."),
    )
    requests_soins = forms.MultipleChoiceField(
        label=gettext_lazy("Demandes de soins"),
        choices=REQUESTS_SOINS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    requests_medico_social = forms.MultipleChoiceField(
        label=gettext_lazy("Demandes médico-sociales"),
        choices=REQUESTS_MEDICO_SOCIAL,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    person_last_name = NameField(label=gettext_lazy("Nom de la personne"))
    person_first_name = NameField(label=gettext_lazy("Prénom de la personne"))
    person_birth_date = _birth_date_field(gettext_lazy("Date de naissance de la personne"))
    person_sex = forms.ChoiceField(label=gettext_lazy("Sexe"), choices=SEX_CHOICES, required=False)
    person_phone = PublicPhoneField(
        label=gettext_lazy("Téléphone de la personne"),
        required=False,
        region="FR",
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    person_commune = forms.ChoiceField(label=gettext_lazy("Commune de la personne"))
    person_commune_other = PublicTextField(
        label=gettext_lazy("Nom de la commune"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Si la commune n'est pas dans la liste."),
    )
    person_has_mt = forms.ChoiceField(
        label=gettext_lazy("La personne a-t-elle un médecin traitant ?"),
        choices=HAS_MT_CHOICES,
        widget=forms.RadioSelect,
    )
    person_mt_name = PublicTextField(
        label=gettext_lazy("Nom du médecin traitant"), max_length=150, required=False
    )
    urgency = forms.ChoiceField(
        label=gettext_lazy("Urgence"),
        choices=Urgency.choices,
        initial=Urgency.NORMAL,
        widget=forms.RadioSelect,
    )
    free_text = PublicTextField(
        label=gettext_lazy("Précisions"), max_length=4000, required=False, widget=_textarea(6)
    )
    attachments = AttachmentsField(
        label=gettext_lazy("Pièces jointes"),
        help_text=gettext_lazy(
            "PDF, JPEG ou PNG ; %(count)s fichiers au plus, %(size)s Mo chacun au plus."
        ),
    )
    consent = forms.BooleanField(
        label=gettext_lazy(
            "La personne est d'accord pour cette demande et pour que ces informations soient "
            "transmises à l'équipe de coordination."
        ),
        error_messages={
            "required": gettext_lazy(
                "Cochez cette case : l'équipe ne peut pas traiter une demande sans l'accord "
                "de la personne."
            )
        },
    )

    def __init__(self, *args, member=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member
        self.fields["attachments"].help_text = self.fields["attachments"].help_text % {
            "count": MAX_FILES,
            "size": settings.SAISINE_ATTACHMENT_MAX_MB,
        }
        if member is not None:
            # A member's address is the account's: already verified, not asked again.
            del self.fields["requester_email"]
            self.initial.setdefault("requester_name", member.get_full_name())

    def clean_person_birth_date(self):
        value = self.cleaned_data.get("person_birth_date")
        _check_birth_date(value)
        return value

    def clean(self):
        data = super().clean()
        self._require_other_commune("person_commune", "person_commune_other")
        return data

    def saisine_data(self) -> dict:
        data = self.cleaned_data
        role = ", ".join(
            filter(
                None,
                [
                    data["requester_role"],
                    data["requester_organisation"],
                    f"RPPS {data['requester_rpps']}" if data["requester_rpps"] else "",
                ],
            )
        )
        with translation.override(settings.LANGUAGE_CODE):  # read by the staff
            description = self._description()
        values = {
            "origin": data["origin"],
            "channel": "web",
            "language": translation.get_language() or settings.LANGUAGE_CODE,
            "requester_name": data["requester_name"],
            "requester_role": role[:200],
            "requester_phone": data["requester_phone"] or "",
            "requester_email": data.get("requester_email", ""),
            "anonymous_description": description,
            "bulletin": data["bulletin"],
            "difficulty": data["difficulty"],
            "requests": [*data["requests_soins"], *data["requests_medico_social"]],
            "urgency": data["urgency"],
            "free_text": data["free_text"],
            "consent_given": True,
        }
        if self.member is not None:
            values["requester_user"] = self.member
            values["requester_email"] = self.member.email
            values["requester_email_verified_at"] = timezone.now()
        return values

    def _description(self) -> str:
        data = self.cleaned_data
        mt = str(dict(HAS_MT_CHOICES)[data["person_has_mt"]])
        if data["person_has_mt"] == YES and data["person_mt_name"]:
            mt = f"{mt} ({data['person_mt_name']})"
        phone = data["person_phone"]
        return _describe(
            [
                (
                    _("Personne"),
                    _person_line(
                        data["person_first_name"],
                        data["person_last_name"],
                        data["person_birth_date"],
                    ),
                ),
                (
                    _("Sexe"),
                    str(dict(SEX_CHOICES)[data["person_sex"]]) if data["person_sex"] else "",
                ),
                (_("Téléphone"), phone.as_national if phone else ""),
                (_("Commune"), self._commune_label("person_commune", "person_commune_other")),
                (_("Médecin traitant"), mt),
            ]
        )
