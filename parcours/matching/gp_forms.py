"""Forms of the GP's own pages and of the administrator's account linking."""

from django import forms
from django.utils.translation import gettext_lazy as _

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
