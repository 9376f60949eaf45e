"""Forms of the coordinator's pages of the médecin traitant search.

The services check the rules again (and raise French messages); these forms only turn the
posted text into the values the services take. A form acting on a search as the page showed
it carries its ``version``.
"""

import datetime

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from parcours.directory.hsds import LANGUAGE_NAMES

from . import services
from .models import FollowUp, MTSearch, Priority

# Spoken languages a coordinator ticks (ISO 639 codes, as the directory stores them).
LANGUAGES = ("fr", "en", "ar", "es", "pt", "it", "de", "tr", "ru", "uk", "ro", "zh", "fa", "wo")
LANGUAGE_CHOICES = [(code, capfirst(LANGUAGE_NAMES[code])) for code in LANGUAGES] + [
    (code, capfirst(name)) for code, name in LANGUAGE_NAMES.items() if code not in LANGUAGES
]
_LANGUAGE_CODES = {name.lower(): code for code, name in LANGUAGE_NAMES.items()}

STATUS_RUNNING = "running"


def person_language_codes(person) -> list[str]:
    """The person's languages (typed as codes or French names) other than French: the
    preferences a coordinator most often keeps."""
    codes = []
    for value in person.languages or []:
        value = str(value).strip().lower()
        code = value if value in LANGUAGE_NAMES else _LANGUAGE_CODES.get(value)
        if code and code != "fr" and code not in codes:
            codes.append(code)
    return codes


class PreferencesForm(forms.Form):
    """The person's preferences, priority and the follow-up needed."""

    doctor_sex = forms.ChoiceField(
        label=_("Sexe du médecin souhaité"),
        choices=MTSearch.DoctorSex.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    languages = forms.MultipleChoiceField(
        label=_("Langues que le médecin devrait parler"),
        choices=LANGUAGE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Les médecins qui parlent l'une de ces langues passent devant."),
    )
    max_distance_km = forms.IntegerField(
        label=_("Distance maximale du domicile (km)"),
        min_value=1,
        max_value=services.MAX_DISTANCE_KM,
        initial=10,
        error_messages={"invalid": _("Indiquez un nombre entier de kilomètres.")},
    )
    home_visits = forms.BooleanField(label=_("Visites à domicile nécessaires"), required=False)
    accessibility = forms.BooleanField(
        label=_("Cabinet accessible (personne à mobilité réduite)"), required=False
    )
    priorities = forms.MultipleChoiceField(
        label=_("Priorité"),
        choices=Priority.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Les recherches prioritaires passent en tête de liste."),
    )
    complex_situation = forms.BooleanField(
        label=_("Situation complexe (parcours IPA possible)"), required=False
    )
    follow_up = forms.ChoiceField(
        label=_("Suivi nécessaire"),
        choices=FollowUp.choices,
        initial=FollowUp.ROUTINE,
        help_text=_("La seule indication sur la santé que reçoivent les médecins sollicités."),
    )
    note = forms.CharField(
        label=_("Précisions pour l'équipe"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Jamais transmises aux médecins sollicités."),
    )

    WISHES = ("doctor_sex", "languages", "max_distance_km", "home_visits", "accessibility")
    PRIORITY = ("priorities", "complex_situation", "follow_up", "note")

    def preference_fields(self) -> list:
        return [self[name] for name in self.WISHES]

    def priority_fields(self) -> list:
        return [self[name] for name in self.PRIORITY]

    def preferences(self) -> dict:
        return {name: self.cleaned_data[name] for name in services.PREFERENCE_FIELDS}

    @classmethod
    def initial_for(cls, search: MTSearch) -> dict:
        return {name: getattr(search, name) for name in services.PREFERENCE_FIELDS}


class PreferencesUpdateForm(PreferencesForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class _PageForm(forms.Form):
    """A form sharing the search's page with others: its own element ids."""

    ids = "id_%s"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", self.ids)
        super().__init__(*args, **kwargs)


class ChoiceForm(_PageForm):
    ids = "choix_%s"
    choice = forms.ChoiceField(
        label=_("Choix de la personne"),
        choices=MTSearch.Choice.choices,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Pourquoi la personne refuse (si elle refuse)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DeclaredForm(_PageForm):
    ids = "declaration_%s"
    declared_on = forms.DateField(
        label=_("Date de la déclaration"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Saisissez une date valide, par exemple 14/03/2026.")},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"declared_on": timezone.localdate()})
        super().__init__(*args, **kwargs)

    def clean_declared_on(self) -> datetime.date:
        declared_on = self.cleaned_data["declared_on"]
        if declared_on > timezone.localdate():
            raise forms.ValidationError(_("La date de déclaration ne peut pas être future."))
        return declared_on


class CloseForm(_PageForm):
    ids = "cloture_%s"
    reason = forms.CharField(
        label=_("Motif de clôture"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Par exemple : la personne a trouvé un médecin par elle-même, a déménagé."),
    )


class ListFilterForm(forms.Form):
    """The list's status filter (GET): a wrong value shows the searches in progress."""

    status = forms.ChoiceField(
        label=_("État"),
        choices=[(STATUS_RUNNING, _("En cours (toutes)")), *MTSearch.Status.choices],
        required=False,
    )

    def chosen_status(self) -> str:
        if self.is_valid() and self.cleaned_data["status"]:
            return self.cleaned_data["status"]
        return STATUS_RUNNING
