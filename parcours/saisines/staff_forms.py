"""Forms of the team's saisine pages: the work queue's filters, the phone quick entry,
the triage (identity, complexity, decisions), notes, closure, answers taken by phone.

Every form that changes a saisine's state carries the ``version`` the page showed, so a
change made meanwhile by someone else is refused with a message instead of overwritten.
Text fields reuse the public forms' cleaning (NUL, control and direction characters).
"""

import datetime
import secrets
from urllib.parse import urlencode

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parcours.people.models import Sex
from parcours.people.services import birth_date_error

from .complexity import DIMENSIONS, SCORES
from .models import Bulletin, Orientation, Origin, Urgency
from .public_forms import (
    REQUESTS_MEDICO_SOCIAL,
    REQUESTS_SOINS,
    NameField,
    PublicPhoneField,
    PublicTextField,
    SubmissionKeyField,
)
from .staff_selectors import DEFAULT_TAB, FILTERS, TAB_CODES, resource_get

CHOOSE = ("", gettext_lazy("— Choisissez —"))
ALL = ("", gettext_lazy("Toutes"))
REQUEST_BULLETIN = {
    **{code: Bulletin.SOINS for code, _label in REQUESTS_SOINS},
    **{code: Bulletin.MEDICO_SOCIAL for code, _label in REQUESTS_MEDICO_SOCIAL},
}


def _text(label, *, max_length=4000, required=True, rows=3, **kwargs) -> PublicTextField:
    return PublicTextField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
        **kwargs,
    )


class VersionForm(forms.Form):
    """A form acting on the saisine as the page showed it (its ``version``)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def apply_version(self, saisine) -> None:
        saisine.version = self.cleaned_data["version"]


# --- The work queue ------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    """The queue's tab and filters (GET). A wrong value is ignored, never an error."""

    tab = forms.ChoiceField(
        choices=[(code, code) for code in TAB_CODES], required=False, widget=forms.HiddenInput
    )
    urgency = forms.ChoiceField(
        label=gettext_lazy("Urgence"), choices=[ALL, *Urgency.choices], required=False
    )
    origin = forms.ChoiceField(
        label=gettext_lazy("Origine"), choices=[ALL, *Origin.choices], required=False
    )
    bulletin = forms.ChoiceField(
        label=gettext_lazy("Bulletin"),
        choices=[("", gettext_lazy("Tous")), *Bulletin.choices],
        required=False,
    )
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in FILTERS:
            self.fields[name].widget.attrs["class"] = "form-select"

    def params(self) -> dict:
        """{"tab", "filters", "page"} from what is valid in the query string."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})  # the valid fields only
        return {
            "tab": cleaned.get("tab") or DEFAULT_TAB,
            "filters": {name: cleaned.get(name) or "" for name in FILTERS},
            "page": cleaned.get("page") or 1,
        }

    def url(self, **changes) -> str:
        """The query string of the queue with ``changes`` (page back to 1 unless given)."""
        params = self.params()
        query = {"tab": params["tab"], **params["filters"], "page": None, **changes}
        return "?" + urlencode({key: value for key, value in query.items() if value})


# --- Quick entry of a phone call -----------------------------------------------------------


def request_choices() -> list:
    return [
        CHOOSE,
        (Bulletin.SOINS.label, list(REQUESTS_SOINS)),
        (Bulletin.MEDICO_SOCIAL.label, list(REQUESTS_MEDICO_SOCIAL)),
    ]


def _check_birth_date(value: datetime.date | None) -> None:
    if message := birth_date_error(value):
        raise forms.ValidationError(message, code="birth_date")


class QuickEntryForm(forms.Form):
    """A phone call in under a minute: who calls, for whom, what for, how urgent."""

    origin = forms.ChoiceField(
        label=gettext_lazy("Origine de l'appel"),
        choices=[CHOOSE, *Origin.choices],
        widget=forms.Select(attrs={"autofocus": True}),
    )
    requester_name = PublicTextField(
        label=gettext_lazy("Nom de l'appelant"), max_length=150, required=False
    )
    requester_phone = PublicPhoneField(
        label=gettext_lazy("Téléphone de l'appelant"),
        required=False,
        region="FR",
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    person_name = NameField(
        label=gettext_lazy("Personne concernée (NOM Prénom)"),
        max_length=150,
        required=False,
        help_text=gettext_lazy("Le nom de famille en majuscules : DUPONT Marie."),
    )
    person_birth_date = forms.DateField(
        label=gettext_lazy("Date de naissance"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )
    anonymous = forms.BooleanField(
        label=gettext_lazy("La personne reste anonyme pour l'instant"), required=False
    )
    request = forms.ChoiceField(
        label=gettext_lazy("Demande"),
        choices=request_choices,
        help_text=gettext_lazy("Le bulletin (soins ou médico-social) en découle."),
    )
    urgency = forms.ChoiceField(
        label=gettext_lazy("Urgence"), choices=Urgency.choices, initial=Urgency.NORMAL
    )
    note = PublicTextField(
        label=gettext_lazy("Note sur l'appel"),
        max_length=2000,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    consent = forms.BooleanField(
        label=gettext_lazy("L'appelant déclare l'accord de la personne"), required=False
    )
    submission_key = SubmissionKeyField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_key", secrets.token_urlsafe(24))

    def clean_person_birth_date(self):
        value = self.cleaned_data.get("person_birth_date")
        _check_birth_date(value)
        return value

    def clean(self):
        data = super().clean()
        named = bool(data.get("person_name")) or bool(data.get("person_birth_date"))
        if data.get("anonymous") and named:
            raise forms.ValidationError(
                _("Décochez « anonyme » ou effacez le nom et la date de naissance."),
                code="anonymous_named",
            )
        if not data.get("anonymous") and not data.get("person_name"):
            if "person_name" not in self.errors:
                self.add_error(
                    "person_name",
                    _("Indiquez le nom de la personne, ou cochez « anonyme »."),
                )
        return data

    def _description(self) -> str:
        data = self.cleaned_data
        if data["anonymous"]:
            return _("Personne : anonyme pour l'instant")
        line = f"{_('Personne')} : {data['person_name']}"
        if data["person_birth_date"]:
            born = date_format(data["person_birth_date"], "d/m/Y")
            line += ", " + _("née ou né le %(date)s") % {"date": born}
        return line

    def saisine_data(self) -> dict:
        """The saisine's fields (``saisine_create``'s ``data``): channel phone."""
        data = self.cleaned_data
        return {
            "origin": data["origin"],
            "channel": "phone",
            "language": "fr",
            "requester_name": data["requester_name"],
            "requester_phone": data["requester_phone"] or "",
            "anonymous_description": self._description(),
            "bulletin": REQUEST_BULLETIN[data["request"]],
            "requests": [data["request"]],
            "urgency": data["urgency"],
            "free_text": data["note"],
            "consent_given": data["consent"],
        }


# --- Detail: notes, assignment, closure, answers taken by phone -----------------------------


class NoteForm(forms.Form):
    text = _text(gettext_lazy("Nouvelle note"), max_length=4000, rows=3)


class AssignForm(forms.Form):
    ME, NOBODY = "me", "nobody"
    to = forms.ChoiceField(choices=((ME, ME), (NOBODY, NOBODY)))
    expected = forms.IntegerField(required=False, widget=forms.HiddenInput)


class CloseForm(VersionForm):
    outcome = _text(gettext_lazy("Issue de la saisine"), max_length=4000)


class OrientationRecordForm(forms.Form):
    """An orientation's answer given by phone, entered by the team."""

    answer = forms.ChoiceField(
        label=gettext_lazy("Réponse"),
        choices=[
            (Orientation.Status.ACCEPTED, Orientation.Status.ACCEPTED.label),
            (Orientation.Status.DECLINED, Orientation.Status.DECLINED.label),
            (Orientation.Status.DONE, Orientation.Status.DONE.label),
        ],
    )
    reason = PublicTextField(
        label=gettext_lazy("Motif du refus"),
        max_length=2000,
        required=False,
        widget=forms.TextInput(),
    )


# --- Triage --------------------------------------------------------------------------------


class IdentityForm(VersionForm):
    """The person's identity as the requester gave it: duplicates first, then a record."""

    birth_name = NameField(label=gettext_lazy("Nom de naissance"))
    first_names = NameField(label=gettext_lazy("Prénoms"), max_length=200)
    birth_date = forms.DateField(
        label=gettext_lazy("Date de naissance"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )
    sex = forms.ChoiceField(label=gettext_lazy("Sexe"), choices=Sex.choices, initial=Sex.UNKNOWN)
    confirm_duplicates = forms.BooleanField(
        label=gettext_lazy("J'ai vérifié : aucune de ces fiches n'est la même personne"),
        required=False,
    )

    def clean_birth_date(self):
        value = self.cleaned_data.get("birth_date")
        _check_birth_date(value)
        return value

    def person_data(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in ("birth_name", "first_names", "birth_date", "sex")
        }


class LinkForm(VersionForm):
    person = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


def _score_field(dimension) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=dimension.label,
        help_text=dimension.examples,
        choices=SCORES,
        coerce=int,
        initial=0,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )


class ComplexityForm(VersionForm):
    """One score per dimension of the screening (see complexity.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for dimension in DIMENSIONS:
            self.fields[dimension.code] = _score_field(dimension)

    def scores(self) -> dict:
        return {dimension.code: self.cleaned_data[dimension.code] for dimension in DIMENSIONS}


class InformationForm(VersionForm):
    what = _text(
        gettext_lazy("Information donnée"),
        help_text=gettext_lazy("Ce qui a été expliqué au demandeur ; la saisine sera clôturée."),
    )


class DecisionNoteForm(VersionForm):
    """Médecin traitant search or opening a case (the page says which): an optional note."""

    note = _text(gettext_lazy("Précisions"), required=False, rows=2)


class DeclineForm(VersionForm):
    reason = _text(
        gettext_lazy("Motif"),
        help_text=gettext_lazy("Pourquoi l'équipe ne donne pas suite (et vers qui diriger)."),
    )


class ResourceField(forms.MultipleChoiceField):
    """Directory resources ("kind:id" values) checked by ``resource_get``."""

    def valid_value(self, value) -> bool:
        return True  # checked against the directory in OrientationForm.clean_resources


class OrientationForm(VersionForm):
    resources = ResourceField(
        label=gettext_lazy("Ressources choisies"),
        error_messages={"required": gettext_lazy("Choisissez au moins une ressource.")},
    )
    message = _text(
        gettext_lazy("Message au destinataire"),
        required=False,
        help_text=gettext_lazy(
            "Ce que la ressource doit savoir. Pas de détail médical : seuls le prénom et la "
            "commune de la personne accompagnent le message."
        ),
    )
    by_phone = forms.BooleanField(
        label=gettext_lazy("Orientation faite par téléphone (aucun e-mail envoyé)"),
        required=False,
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation

    def clean_resources(self) -> list:
        found = []
        for value in dict.fromkeys(self.cleaned_data["resources"]):
            resource = resource_get(organisation=self.organisation, value=value)
            if resource is None:
                raise forms.ValidationError(
                    _(
                        "Une des ressources choisies n'est plus dans l'annuaire : "
                        "cherchez-la à nouveau."
                    )
                )
            found.append(resource)
        return found


class ResourceSearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Chercher dans l'annuaire"), max_length=200, required=False
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Type"),
        choices=[
            ("", gettext_lazy("Tout")),
            ("service", gettext_lazy("Services")),
            ("structure", gettext_lazy("Structures")),
            ("professional", gettext_lazy("Professionnels")),
        ],
        required=False,
    )
