from django import forms
from django.utils.translation import gettext_lazy as _

from parcours.accounts.selectors import membership_list

from .models import Action
from .selectors import EventFilters

DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d"]  # French first; ISO from date pickers


class EventFilterForm(forms.Form):
    """The DPO page's filters (GET). Members are those of the request's organisation."""

    person = forms.IntegerField(label=_("Identifiant de la personne"), required=False, min_value=1)
    actor = forms.TypedChoiceField(
        label=_("Utilisateur"), required=False, coerce=int, empty_value=None
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Toutes"))] + Action.choices
    )
    date_from = forms.DateField(
        label=_("Du"),
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("Au"),
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        members = membership_list(organisation=organisation)
        self.fields["actor"].choices = [("", _("Tous"))] + [
            (m.user_id, m.user.get_full_name() or m.user.email) for m in members
        ]
        for field in self.fields.values():
            is_select = isinstance(field, forms.ChoiceField)
            field.widget.attrs.setdefault("class", "form-select" if is_select else "form-control")

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("La date de fin doit être postérieure à la date de début."))
        return cleaned

    def filters(self) -> EventFilters:
        data = self.cleaned_data
        return EventFilters(
            person_id=data["person"],
            actor_id=data["actor"],
            action=data["action"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )
