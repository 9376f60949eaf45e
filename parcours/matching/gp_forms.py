"""Forms of the GP's own pages and of the administrator's account linking."""

from django import forms
from django.utils.translation import gettext_lazy as _

from parcours.directory.availability import AGE_GROUPS, MAX_CAPACITY
from parcours.directory.models import Availability

from .models import DeclineReason


class GPAnswerForm(forms.Form):
    """The logged-in GP's answer to one request (prefixed by the request's number)."""

    ACCEPT, DECLINE = "accept", "decline"

    answer = forms.ChoiceField(
        choices=((ACCEPT, _("J'accepte")), (DECLINE, _("Je ne peux pas"))),
        widget=forms.HiddenInput,
    )
    reason = forms.ChoiceField(
        label=_("Motif"),
        choices=(("", _("— choisissez —")), *DeclineReason.choices),
        required=False,
    )
    note = forms.CharField(
        label=_("Précision (obligatoire pour « Autre raison »)"),
        max_length=500,
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("answer") == self.DECLINE and not data.get("reason"):
            self.add_error("reason", _("Choisissez un motif."))
        return data


class GPAvailabilityForm(forms.Form):
    """The GP declares (or updates) how many new patients he can take."""

    prefix = "disponibilite"

    accepting = forms.ChoiceField(
        label=_("Acceptez-vous de nouveaux patients comme médecin traitant ?"),
        choices=Availability.Accepting.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez une réponse.")},
    )
    capacity = forms.IntegerField(
        label=_("Combien de nouveaux patients pouvez-vous accueillir ?"),
        required=False,
        min_value=1,
        max_value=MAX_CAPACITY,
        help_text=_("Si vous acceptez : un nombre approximatif suffit. Facultatif."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    age_groups = forms.MultipleChoiceField(
        label=_("Âges que vous acceptez"),
        required=False,
        choices=AGE_GROUPS,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Facultatif : ne cochez rien si tous les âges conviennent."),
    )
    home_visits = forms.BooleanField(label=_("Je fais des visites à domicile"), required=False)

    @classmethod
    def initial_from(cls, availability) -> dict:
        """The current declaration, to start from."""
        if availability is None:
            return {}
        return {
            "accepting": availability.accepting,
            "capacity": availability.capacity,
            "age_groups": availability.age_groups,
            "home_visits": availability.home_visits,
        }


class AccountLinkForm(forms.Form):
    membership = forms.ModelChoiceField(
        label=_("Membre"),
        queryset=None,
        empty_label=_("— choisissez un professionnel de santé —"),
    )
    rpps = forms.CharField(
        label=_("Numéro RPPS du médecin"),
        max_length=20,
        help_text=_("11 chiffres ; le médecin généraliste doit figurer dans l'annuaire."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = members
        self.fields["membership"].label_from_instance = member_label


class AccountUnlinkForm(forms.Form):
    membership = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = members


def member_label(membership) -> str:
    user = membership.user
    name = user.get_full_name()
    return f"{name} ({user.email})" if name else user.email
