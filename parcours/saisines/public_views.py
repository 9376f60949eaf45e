"""Public pages of the single entry point: the resident's and the professional's forms,
their confirmation, the requester's status page, the professional's e-mail verification.

The forms live under ``/saisines/<organisation slug>/`` (an instance may host several
organisations); an unknown slug is 404. They are rate-limited per address (POSTs only:
reading the form costs nothing) and carry a honeypot and a submission key. Pages reached
without an account never show what was stored about a person.
"""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django_scopes import scope

from parcours.accounts.access import PUBLIC, access
from parcours.accounts.models import Organisation
from parcours.lib.ratelimit import over_limit
from parcours.territory.selectors import territory_commune_choices

from . import services, verification
from .models import Saisine
from .public import public_acknowledge, public_confirmation, public_submit, status_open
from .public_forms import ProfessionalForm, ResidentForm

DONE_KEY = "parcours_public_saisine"
TOO_MANY = gettext_lazy(
    "Trop de demandes envoyées depuis votre connexion en peu de temps. Ce que vous avez "
    "saisi est conservé ci-dessous : patientez quelques minutes, puis envoyez à nouveau."
)


def _organisation(slug: str) -> Organisation:
    return get_object_or_404(Organisation, slug=slug)


def _limited(request) -> bool:
    return over_limit(
        request,
        group="saisines-public",
        setting="SAISINE_PUBLIC_RATE_LIMIT",
        default="10/10m",
        methods=("POST",),
    )


def _submit_page(request, organisation, form, *, kind: str, template: str, member=None):
    """Show the form; on POST, record it (or say what is wrong, keeping what was typed)."""
    context = {"form": form, "organisation": organisation, "member": member}
    if request.method != "POST":
        return render(request, template, context)
    if _limited(request):
        form.is_valid()  # its errors shown beside the limit message; nothing is recorded
        form.add_error(None, TOO_MANY)
        response = render(request, template, context, status=429)
        response["Retry-After"] = "60"
        return response
    if form.honeypot_filled:
        # A robot filled the hidden field: it is told "sent" and nothing is recorded.
        # Answering with an error would teach it to leave the field empty next time.
        return _done(request, organisation, None, kind)
    if not form.is_valid():
        return render(request, template, context)
    saisine = public_submit(organisation=organisation, form=form, member=member, request=request)
    if kind == "professional" and member is None:
        verification.verification_send(saisine)  # the status link is in that message too
    else:
        public_acknowledge(saisine)
    return _done(request, organisation, saisine, kind)


def _done(request, organisation: Organisation, saisine: Saisine | None, kind: str):
    # The confirmation page shows the status link: the saisine is named in the session
    # (anonymous sessions end when the browser closes or after SESSION_IDLE_MINUTES), never
    # in the URL; the page can be reloaded or switched to another language meanwhile.
    request.session[DONE_KEY] = {"saisine": saisine.pk if saisine else None, "kind": kind}
    return redirect(f"saisines:public-{kind}-done", organisation_slug=organisation.slug)


def _posted(request):
    return (request.POST, request.FILES) if request.method == "POST" else (None, None)


@access(PUBLIC)
@never_cache
def resident_request(request, organisation_slug: str):
    organisation = _organisation(organisation_slug)
    with scope(organisation=organisation):
        communes = territory_commune_choices(organisation=organisation)
        form = ResidentForm(_posted(request)[0], communes=communes)
        return _submit_page(
            request,
            organisation,
            form,
            kind="resident",
            template="saisines/public_resident_form.html",
        )


def _member(request, organisation: Organisation):
    """The logged-in user when a member of this organisation (the organisation chosen in
    the session): their saisines need no e-mail verification."""
    if request.user.is_authenticated and request.organisation == organisation:
        return request.user
    return None


@access(PUBLIC)
@never_cache
def professional_request(request, organisation_slug: str):
    organisation = _organisation(organisation_slug)
    member = _member(request, organisation)
    with scope(organisation=organisation):
        communes = territory_commune_choices(organisation=organisation)
        data, files = _posted(request)
        form = ProfessionalForm(data, files, communes=communes, member=member)
        return _submit_page(
            request,
            organisation,
            form,
            kind="professional",
            template="saisines/public_professional_form.html",
            member=member,
        )


def _done_page(request, organisation_slug: str, kind: str):
    organisation = _organisation(organisation_slug)
    done = request.session.get(DONE_KEY)
    shown = done is not None and done.get("kind") == kind
    context = {"organisation": organisation, "kind": kind, "shown": shown}
    if shown and done.get("saisine"):
        context.update(public_confirmation(organisation=organisation, saisine_id=done["saisine"]))
    return render(request, "saisines/public_done.html", context)


@access(PUBLIC)
@never_cache
def resident_done(request, organisation_slug: str):
    return _done_page(request, organisation_slug, "resident")


@access(PUBLIC)
@never_cache
def professional_done(request, organisation_slug: str):
    return _done_page(request, organisation_slug, "professional")


@access(PUBLIC)
@never_cache
def status(request, token: str):
    """The requester's status page: the state of the saisine, never personal data."""
    try:
        saisine = status_open(token=token, request=request)
    except services.LinkInvalid as error:
        context = {"error": str(error), "expired": error.expired}
        return render(request, "saisines/public_link_invalid.html", context, status=410)
    with scope(organisation=saisine.organisation):
        public_status = services.saisine_public_status(saisine)
    context = {"status": public_status, "organisation": saisine.organisation}
    return render(request, "saisines/public_status.html", context)


@access(PUBLIC)
@never_cache
def verify_email(request, token: str):
    """A professional's e-mail link: GET says what will happen, only POST records it."""
    try:
        saisine = verification.verification_open(
            token=token, request=request, audit=request.method != "POST"
        )
    except ValidationError as error:
        context = {"error": error.messages[0], "expired": error.code == "expired"}
        return render(request, "saisines/public_link_invalid.html", context, status=410)
    verified_now = False
    if request.method == "POST":
        verified_now = verification.requester_email_verify(saisine=saisine, request=request)
    context = {
        "organisation": saisine.organisation,
        "reference": saisine.reference,
        "already": saisine.requester_email_verified_at is not None and not verified_now,
        "verified_now": verified_now,
    }
    return render(request, "saisines/public_verify.html", context)
