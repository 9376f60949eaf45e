"""The GP's answer to an anonymous solicitation, from the e-mail's signed links.

No account needed. GET shows what the link will record and changes nothing (mail scanners
open links before people do; the opening is audited); the button (POST) records it. The
page shows what the e-mail showed (age band, sex, commune, follow-up), never more.
"""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from parcours.accounts.access import PUBLIC, access
from parcours.lib.signed_links import LinkInvalid

from . import messages, services
from .models import DeclineReason, MTSearch, Solicitation


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Pourquoi ne pouvez-vous pas ?"),
        choices=DeclineReason.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Précision (facultatif, obligatoire pour « Autre raison »)"),
        max_length=500,
        required=False,
        widget=forms.TextInput,
    )


def answer_state(solicitation: Solicitation) -> str:
    """open: the answer can be recorded; else what the page says instead (the GP's page
    uses it too)."""
    search = solicitation.search
    if solicitation.status == Solicitation.Status.ACCEPTED:
        won = search.accepted_professional_id == solicitation.professional_id
        return "accepted" if won else "placed"
    if solicitation.status == Solicitation.Status.DECLINED:
        return "declined"
    if solicitation.status == Solicitation.Status.EXPIRED:
        return "expired"
    if (
        solicitation.status == Solicitation.Status.WITHDRAWN
        or search.status != MTSearch.Status.OPEN
    ):
        return "placed" if search.accepted_professional_id else "withdrawn"
    return "open"


@access(PUBLIC)
@never_cache
def solicitation_answer(request, token: str):
    try:
        link = services.solicitation_link_open(
            token=token, request=request, audit=request.method != "POST"
        )
    except LinkInvalid as error:
        return render(
            request,
            "matching/link_invalid.html",
            {"error": error.message, "expired": error.expired},
            status=410,
        )
    solicitation = link.solicitation
    form = DeclineForm(request.POST or None) if link.action == "decline" else None
    status = 200
    state = answer_state(solicitation)
    if request.method == "POST" and state == "open":
        if link.action == "accept":
            won = services.solicitation_accept(solicitation=solicitation, request=request)
            state = "accepted" if won else "placed"
            status = 200 if won else 409
        elif form.is_valid():
            try:
                services.solicitation_decline(
                    solicitation=solicitation,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                    request=request,
                )
                state = "declined"
            except ValidationError as error:
                form.add_error(None, error)
                status = 409 if isinstance(error, services.SearchRefused) else 200
                solicitation.refresh_from_db()
                state = answer_state(solicitation)
    elif request.method == "POST":
        status = 409
    context = {
        "solicitation": solicitation,
        "organisation": solicitation.organisation,
        "facts": messages.anonymous_facts(solicitation.search, solicitation.search.person),
        "action": link.action,
        "state": state,
        "form": form,
        "bulletin_days": settings.MATCHING_BULLETIN_DAYS,
    }
    return render(request, "matching/solicitation_answer.html", context, status=status)
