"""Forms of the escalation pages: a call's outcome, the IPA route, the figures' period.

The services check the rules again and raise French messages; these forms turn the posted
text into the values the services take.
"""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Call, DeclineReason, MTSearch

DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d"]  # French first; ISO from date pickers
FIGURES_MAX_DAYS = 366 * 10
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Saisissez une date valide (jj/mm/aaaa).")},
        **kwargs,
    )


def call_prefix(professional_id: int) -> str:
    """Each line of the call round has its own form (labels and ids stay unique)."""
    return f"appel-{professional_id}"


class CallForm(forms.Form):
    """The outcome of one call of the call round (the GP is the line's, posted apart)."""

    outcome = forms.ChoiceField(
        label=_("Résultat de l'appel"),
        choices=Call.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez le résultat de l'appel.")},
    )
    reason = forms.ChoiceField(
        label=_("Motif du refus"),
        choices=[("", _("— (en cas de refus)"))] + DeclineReason.choices,
        required=False,
    )
    note = forms.CharField(
        label=_("Précision"),
        max_length=500,
        required=False,
        help_text=_("Obligatoire pour « Autre raison ». Pas de données de santé."),
    )
    phone = forms.CharField(label=_("Numéro appelé"), max_length=30, required=False)

    def clean(self):
        cleaned = super().clean()
        outcome, reason = cleaned.get("outcome"), cleaned.get("reason")
        if outcome == Call.Outcome.REFUSED and not reason:
            self.add_error("reason", _("Choisissez le motif du refus."))
        if outcome == Call.Outcome.REFUSED and reason == DeclineReason.OTHER:
            if not (cleaned.get("note") or "").strip():
                self.add_error("note", _("Précisez le motif."))
        return cleaned


class IpaRecordForm(forms.Form):
    """The IPA's evaluation visit."""

    ipa_name = forms.CharField(
        label=_("IPA qui a évalué la personne"),
        max_length=200,
        error_messages={"required": _("Indiquez l'IPA qui a évalué la personne.")},
    )
    visit_on = _date_field(_("Date de la visite d'évaluation"))
    evaluation = forms.CharField(
        label=_("Évaluation"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Ce que l'IPA retient pour le suivi (visible par l'équipe)."),
    )

    def clean_visit_on(self):
        visit_on = self.cleaned_data["visit_on"]
        if visit_on > timezone.localdate():
            raise forms.ValidationError(_("La visite ne peut pas être dans le futur."))
        return visit_on


class IpaProposeForm(forms.Form):
    """The GP to whom the IPA proposed the file, and the follow-up agreed."""

    professional = forms.TypedChoiceField(
        label=_("Médecin qui accepte le dossier"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Les médecins généralistes qui exercent dans le rayon de recherche."),
    )
    rpps = forms.CharField(
        label=_("ou son numéro RPPS"),
        max_length=11,
        min_length=11,
        required=False,
        help_text=_("Pour un médecin hors de la liste (11 chiffres)."),
    )
    follow_up_mode = forms.ChoiceField(
        label=_("Modalité du suivi"),
        choices=MTSearch.FollowUpMode.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez la modalité du suivi.")},
    )

    def __init__(self, *args, gps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["professional"].choices = [("", _("— choisir —"))] + [
            (gp.professional_id, f"{gp.name} — {gp.commune or gp.place}") for gp in gps
        ]

    def clean_rpps(self):
        rpps = (self.cleaned_data.get("rpps") or "").replace(" ", "")
        if rpps and not rpps.isdigit():
            raise forms.ValidationError(_("Le numéro RPPS compte 11 chiffres."))
        return rpps

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("professional") and not cleaned.get("rpps") and not self.errors:
            self.add_error("professional", _("Choisissez le médecin ou saisissez son RPPS."))
        return cleaned


class FiguresForm(forms.Form):
    """The period of the figures (GET); the current calendar year by default."""

    start = _date_field(_("Du"), required=False)
    end = _date_field(_("Au"), required=False)

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        start = cleaned.get("start") or datetime.date(today.year, 1, 1)
        end = cleaned.get("end") or datetime.date(today.year, 12, 31)
        if "start" in cleaned and "end" in cleaned:
            if not all(FIRST_YEAR <= day.year <= LAST_YEAR for day in (start, end)):
                self.add_error(
                    None,
                    _("Choisissez des dates entre %(first)s et %(last)s.")
                    % {"first": FIRST_YEAR, "last": LAST_YEAR},
                )
            elif start > end:
                self.add_error("end", _("La date de fin doit suivre la date de début."))
            elif (end - start).days > FIGURES_MAX_DAYS:
                self.add_error("end", _("La période ne peut pas dépasser dix ans."))
        cleaned["start"], cleaned["end"] = start, end
        return cleaned

    def period(self) -> tuple[datetime.date, datetime.date]:
        """The period asked, or the current calendar year when the form is not valid."""
        if self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        today = timezone.localdate()
        return datetime.date(today.year, 1, 1), datetime.date(today.year, 12, 31)
