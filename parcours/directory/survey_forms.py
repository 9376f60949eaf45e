"""Forms of the GP availability survey: launching it, and the GP's answer."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .availability import AGE_GROUPS, MAX_CAPACITY
from .models import Availability

DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d"]  # French first; ISO from date pickers


class SurveyLaunchForm(forms.Form):
    closes_on = forms.DateField(
        label=_("Réponses acceptées jusqu'au"),
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Après cette date, les liens envoyés ne fonctionnent plus."),
    )
    reminder_days = forms.IntegerField(
        label=_("Relancer après (jours sans réponse)"), min_value=1, max_value=90, initial=7
    )
    max_reminders = forms.IntegerField(
        label=_("Nombre maximum de relances"), min_value=0, max_value=10, initial=2
    )
    validity_months = forms.IntegerField(
        label=_("Validité des réponses (mois)"),
        min_value=1,
        max_value=36,
        initial=6,
        help_text=_(
            "Une réponse compte comme disponibilité pendant cette durée, puis il faut redemander."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["closes_on"].initial = timezone.localdate() + datetime.timedelta(days=21)

    def clean_closes_on(self):
        closes_on = self.cleaned_data["closes_on"]
        if closes_on < timezone.localdate():
            raise forms.ValidationError(_("La date de clôture ne peut pas être dans le passé."))
        return closes_on


class SurveyAnswerForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("Acceptez-vous de nouveaux patients comme médecin traitant ?"),
        choices=Availability.Accepting.choices,
        widget=forms.RadioSelect,
    )
    capacity = forms.IntegerField(
        label=_("Combien de nouveaux patients pouvez-vous accueillir ?"),
        required=False,
        min_value=1,
        max_value=MAX_CAPACITY,
        help_text=_("Si vous acceptez : un nombre approximatif suffit. Facultatif."),
    )
    age_groups = forms.MultipleChoiceField(
        label=_("Âges que vous acceptez"),
        required=False,
        choices=AGE_GROUPS,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Facultatif : ne cochez rien si tous les âges conviennent."),
    )
    home_visits = forms.BooleanField(label=_("Je fais des visites à domicile"), required=False)
