"""The GP's own pages (role professional) and the administrator's account linking.

- ``gp_home``: for a user linked to a directory GP (``ProfessionalAccount``), the requests
  waiting for his answer (anonymous, as in the e-mail), his new patients with the bulletin
  while it is shared, and his availability declaration with its expiry.
- ``gp_availability`` (POST): he declares or updates his availability (the pool of the
  search), valid ``MATCHING_DECLARATION_MONTHS`` months (``availability_declare``).
- ``gp_answer`` (POST): the same answer as the e-mail's links, through the same services;
  only for a request sent to him.
- ``gp_bulletin``: the full bulletin of a patient he accepted, for
  ``MATCHING_BULLETIN_DAYS`` (audited by the selector).
- ``professional_accounts`` (administrators): link a professional member to the RPPS
  number of a GP, or unlink.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from parcours.accounts.access import access
from parcours.accounts.models import Role
from parcours.accounts.selectors import membership_list
from parcours.directory.availability import AGE_GROUPS, availability_declare
from parcours.directory.models import Source
from parcours.lib.forms import add_errors
from parcours.saisines.public_forms import REQUEST_LABELS

from . import professional_accounts as accounts
from . import selectors, services
from .gp_forms import AccountLinkForm, AccountUnlinkForm, GPAnswerForm, GPAvailabilityForm
from .link_views import answer_state
from .messages import anonymous_facts
from .models import MTSearch, Priority

AGE_GROUP_LABELS = dict(AGE_GROUPS)


def _answer_form(solicitation, data=None) -> GPAnswerForm:
    return GPAnswerForm(data, prefix=f"d{solicitation.pk}")


def _home_context(request, professional, *, bound=None, availability_form=None) -> dict:
    """The GP's page; ``bound``: a request's answer form shown again with its errors,
    ``availability_form``: his declaration shown again with its errors."""
    organisation = request.organisation
    requests = [
        {
            "solicitation": solicitation,
            "facts": anonymous_facts(solicitation.search, solicitation.search.person),
            "form": bound
            if bound is not None and bound.prefix == f"d{solicitation.pk}"
            else _answer_form(solicitation),
        }
        for solicitation in selectors.gp_solicitations(
            organisation=organisation, professional=professional
        )
    ]
    patients = [
        {"search": search, "facts": anonymous_facts(search, search.person)}
        for search in selectors.gp_accepted(organisation=organisation, professional=professional)
    ]
    availability = selectors.gp_availability(organisation=organisation, professional=professional)
    return {
        "professional": professional,
        "requests": requests,
        "patients": patients,
        "availability": availability,
        "availability_expired": availability is not None
        and availability.expires_on < timezone.localdate(),
        "age_groups": [AGE_GROUP_LABELS.get(code, code) for code in availability.age_groups]
        if availability
        else [],
        "availability_form": availability_form
        or GPAvailabilityForm(initial=GPAvailabilityForm.initial_from(availability)),
        "declaration_months": settings.MATCHING_DECLARATION_MONTHS,
        "link_days": settings.MATCHING_LINK_DAYS,
        "bulletin_days": settings.MATCHING_BULLETIN_DAYS,
    }


@access(Role.PROFESSIONAL)
@require_GET
def gp_home(request):
    professional = selectors.professional_for_user(request.user)
    if professional is None:
        return render(request, "matching/gp_home.html", {"professional": None})
    return render(request, "matching/gp_home.html", _home_context(request, professional))


@access(Role.PROFESSIONAL)
@require_POST
def gp_availability(request):
    professional = selectors.professional_for_user(request.user)
    if professional is None:
        messages.error(request, str(NOT_LINKED))
        return redirect("matching:gp-home")
    form = GPAvailabilityForm(request.POST)
    if form.is_valid():
        try:
            availability = availability_declare(
                organisation=request.organisation,
                professional=professional,
                validity_months=settings.MATCHING_DECLARATION_MONTHS,
                source=Source.PROFESSIONAL,
                by=request.user,
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _declared_message(availability))
            return redirect(reverse("matching:gp-home") + "#disponibilite")
    context = _home_context(request, professional, availability_form=form)
    return render(request, "matching/gp_home.html", context, status=200)


NOT_LINKED = gettext_lazy(
    "Votre compte n'est pas encore relié à votre fiche de médecin dans l'annuaire : "
    "demandez à l'équipe de coordination de le relier à votre numéro RPPS, puis déclarez "
    "votre disponibilité."
)


def _declared_message(availability) -> str:
    expires = date_format(availability.expires_on, "SHORT_DATE_FORMAT")
    if availability.accepting == availability.Accepting.NO:
        return _(
            "C'est noté : vous n'acceptez pas de nouveaux patients pour le moment. "
            "Cette déclaration est valable jusqu'au %(date)s."
        ) % {"date": expires}
    return _(
        "Votre disponibilité est enregistrée, valable jusqu'au %(date)s : vous pouvez "
        "recevoir des demandes de nouveaux patients."
    ) % {"date": expires}


STATE_MESSAGES = {
    "accepted": gettext_lazy("Vous avez déjà accepté ce patient : il vous est confié."),
    "placed": gettext_lazy(
        "Ce patient a déjà trouvé un médecin traitant : un confrère a accepté avant vous. Merci !"
    ),
    "declined": gettext_lazy("Vous avez déjà répondu à cette demande."),
    "withdrawn": gettext_lazy("Cette demande a été retirée : vous n'avez rien à faire."),
    "expired": gettext_lazy("Cette demande est close faute de réponse dans le délai."),
}


def _record(request, solicitation, form) -> str:
    """Record the answer; the message to show (raises ValidationError)."""
    if form.cleaned_data["answer"] == GPAnswerForm.ACCEPT:
        if services.solicitation_accept(solicitation=solicitation, request=request):
            return _("Merci : ce patient vous est confié. Son bulletin est dans « Mes patients ».")
        return str(STATE_MESSAGES["placed"])
    services.solicitation_decline(
        solicitation=solicitation,
        reason=form.cleaned_data["reason"],
        note=form.cleaned_data["note"],
        request=request,
    )
    return _("Votre réponse est enregistrée. Merci de nous avoir répondu.")


@access(Role.PROFESSIONAL)
@require_POST
def gp_answer(request, solicitation_id: int):
    professional = selectors.professional_for_user(request.user)
    solicitation = selectors.gp_solicitation_get(
        organisation=request.organisation,
        professional=professional,
        solicitation_id=solicitation_id,
    )
    state = answer_state(solicitation)
    if state != "open":
        messages.info(request, str(STATE_MESSAGES[state]))
        return redirect("matching:gp-home")
    form = _answer_form(solicitation, request.POST)
    if form.is_valid():
        try:
            messages.success(request, _record(request, solicitation, form))
            return redirect("matching:gp-home")
        except ValidationError as error:
            add_errors(form, error)
    context = _home_context(request, professional, bound=form)
    return render(request, "matching/gp_home.html", context, status=200)


@access(Role.PROFESSIONAL)
@require_GET
def gp_bulletin(request, search_id: int):
    search = selectors.bulletin_for_gp(
        organisation=request.organisation, search_id=search_id, user=request.user, request=request
    )
    saisine = search.saisine
    context = {
        "search": search,
        "person": search.person,
        "age": services.person_age(search.person),
        "saisine": saisine,
        "saisine_requests": [REQUEST_LABELS.get(code, code) for code in saisine.requests]
        if saisine
        else [],
        "priorities": [
            Priority(code).label for code in search.priorities if code in Priority.values
        ],
        "doctor_sex": MTSearch.DoctorSex(search.doctor_sex).label,
        "deadline": selectors.bulletin_deadline(search),
    }
    return render(request, "matching/gp_bulletin.html", context)


# --- Administrators: which account is which GP ----------------------------------------------


@access(Role.ADMINISTRATOR)
def professional_accounts(request):
    organisation = request.organisation
    members = accounts.linkable_members(organisation=organisation)
    post = request.POST if request.method == "POST" else None
    action = post.get("action") if post else ""
    link_form = AccountLinkForm(post if action == "link" else None, members=members)
    if action == "link" and link_form.is_valid():
        try:
            accounts.account_link(
                organisation=organisation,
                membership=link_form.cleaned_data["membership"],
                rpps=link_form.cleaned_data["rpps"],
                by=request.user,
                request=request,
            )
        except ValidationError as error:
            add_errors(link_form, error)
        else:
            messages.success(request, _("Le compte est lié au médecin."))
            return redirect("matching:professional-accounts")
    if action == "unlink":
        return _unlink(request, organisation)
    context = {
        "rows": accounts.account_rows(organisation=organisation),
        "form": link_form,
    }
    return render(request, "matching/professional_accounts.html", context)


def _unlink(request, organisation):
    members = membership_list(organisation=organisation)
    form = AccountUnlinkForm(request.POST, members=members)
    if form.is_valid() and accounts.account_unlink(
        organisation=organisation,
        membership=form.cleaned_data["membership"],
        by=request.user,
        request=request,
    ):
        messages.success(request, _("Le compte n'est plus lié à un médecin."))
    else:
        messages.info(request, _("Ce compte n'était pas lié à un médecin."))
    return redirect("matching:professional-accounts")
