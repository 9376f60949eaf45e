"""The escalation pages of the médecin traitant search: the call round (the GPs to phone
one after another, each call's outcome), the IPA route (evaluation visit, the GP who takes
the file), the hand-off file for the CPAM médiateur (printable, CSV), and the figures.

Coordinators and administrators; the figures also for managers (counts only, no person).
Every change is a POST (CSRF) that redirects on success; on failure the page is shown
again with what was typed and a French message (409 when the search's state no longer
allows it). Reads of a search go through ``selectors.search_get`` (audited).
"""

import csv
import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parcours.accounts.access import access
from parcours.accounts.models import Role
from parcours.directory.models import Availability, Professional
from parcours.lib.forms import add_errors

from . import selectors, services
from .escalation_forms import CallForm, FiguresForm, IpaProposeForm, IpaRecordForm, call_prefix
from .forms import LANGUAGE_CHOICES
from .models import MTSearch, MTSearchEvent, Priority
from .views import error_status, search_of

STAFF = (Role.COORDINATOR, Role.ADMINISTRATOR)
FIGURES = (Role.COORDINATOR, Role.MANAGER, Role.ADMINISTRATOR)
Status = MTSearch.Status
Stage = MTSearch.Stage
IPA_GPS_MAX = 500
# The timeline lines the médiateur needs: the dates and stages, not the notes.
HANDOFF_EVENTS = (
    MTSearchEvent.Kind.OPENED,
    MTSearchEvent.Kind.WAVE,
    MTSearchEvent.Kind.STAGE,
    MTSearchEvent.Kind.ACCEPTED,
    MTSearchEvent.Kind.CHOICE,
    MTSearchEvent.Kind.IPA,
)
# A cell starting with one of these is a formula for a spreadsheet (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# --- The call round --------------------------------------------------------------------------


def _call_page(request, search, *, status: int = 200, bound=None, bound_for=None, error=""):
    lines = selectors.call_round(search)
    others = selectors.call_round_others(search)
    can_call = search.status == Status.OPEN
    for line in lines + others.lines:
        pk = line.candidate.professional_id
        if bound is not None and pk == bound_for:
            line.form = bound
        else:
            initial = {"phone": line.phones[0]} if line.phones else {}
            line.form = CallForm(prefix=call_prefix(pk), initial=initial)
        if isinstance(line.candidate, selectors.TerritoryGP):
            continue
        line.accepting_label = Availability.Accepting(line.candidate.accepting).label
    context = {
        "search": search,
        "lines": lines,
        "others": others,
        "can_call": can_call,
        "error": error,
        "calls_count": sum(len(line.calls) for line in lines + others.lines),
    }
    return render(request, "matching/call_round.html", context, status=status)


@access(*STAFF)
@require_http_methods(["GET", "POST"])
def call_round(request, search_id: int):
    """GET: the GPs to phone; POST: one call's outcome (an acceptance takes the search)."""
    search = search_of(request, search_id)
    if request.method != "POST":
        return _call_page(request, search)
    if search.status != Status.OPEN:
        error = _("Cette recherche n'est plus en cours : l'appel n'est pas enregistré.")
        return _call_page(request, search, status=409, error=error)
    try:
        professional_id = int(request.POST.get("professional", ""))
    except ValueError:
        professional_id = None
    professional = selectors.call_round_gp(search, professional_id) if professional_id else None
    if professional is None:
        error = _("Ce médecin n'est plus dans la liste d'appels : la liste est à jour ci-dessous.")
        return _call_page(request, search, status=409, error=error)
    form = CallForm(request.POST, prefix=call_prefix(professional.pk))
    page = {"bound": form, "bound_for": professional.pk}
    if not form.is_valid():
        return _call_page(request, search, **page)
    data = form.cleaned_data
    try:
        services.call_record(
            search=search,
            by=request.user,
            professional=professional,
            outcome=data["outcome"],
            phone=data["phone"],
            reason=data["reason"],
            note=data["note"],
            request=request,
        )
    except ValidationError as error:
        add_errors(form, error)
        refused = " ".join(error.messages) if isinstance(error, services.SearchRefused) else ""
        search = search_of(request, search_id)
        return _call_page(request, search, status=error_status(error), error=refused, **page)
    if data["outcome"] == "accepted":
        messages.success(
            request,
            _("%(name)s accepte : proposez ce médecin à la personne, puis enregistrez son choix.")
            % {"name": str(professional)},
        )
        return redirect("matching:search-detail", search.pk)
    messages.success(request, _("L'appel à %(name)s est enregistré.") % {"name": str(professional)})
    return redirect(reverse("matching:call-round", args=[search.pk]))


# --- The IPA route -----------------------------------------------------------------------------


def ipa_gps(search: MTSearch) -> list:
    """The GPs the IPA may propose the file to: those practising within the radius, by name."""
    nearest = selectors.gps_within(search)[:IPA_GPS_MAX]
    return sorted(nearest, key=lambda gp: (gp.last_name.lower(), gp.name))


def ipa_context(search: MTSearch, *, record_form=None, propose_form=None) -> dict:
    """What ``matching/_ipa.html`` shows with its forms (the search's page may use it)."""
    running = search.status == Status.OPEN
    initial = {"ipa_name": search.ipa_name, "visit_on": search.ipa_visit_on}
    return {
        "search": search,
        "ipa_eligible": services.ipa_eligible(search),
        "ipa_forms": running or record_form is not None or propose_form is not None,
        "ipa_record_form": record_form or (IpaRecordForm(initial=initial) if running else None),
        "ipa_propose_form": propose_form
        or (IpaProposeForm(gps=ipa_gps(search)) if running and search.ipa_visit_on else None),
    }


def _ipa_page(request, search, *, status: int = 200, **forms):
    context = ipa_context(search, **forms)
    return render(request, "matching/search_ipa.html", context, status=status)


@access(*STAFF)
@require_http_methods(["GET", "POST"])
def search_ipa(request, search_id: int):
    """GET: the IPA route; POST: the IPA's evaluation visit."""
    search = search_of(request, search_id)
    if request.method != "POST":
        return _ipa_page(request, search)
    form = IpaRecordForm(request.POST)
    if not form.is_valid():
        return _ipa_page(request, search, record_form=form)
    try:
        services.ipa_record(
            search=search,
            by=request.user,
            ipa_name=form.cleaned_data["ipa_name"],
            visit_on=form.cleaned_data["visit_on"],
            evaluation=form.cleaned_data["evaluation"],
            request=request,
        )
    except ValidationError as error:
        add_errors(form, error)
        return _ipa_page(
            request, search_of(request, search_id), status=error_status(error), record_form=form
        )
    messages.success(request, _("La visite d'évaluation de l'IPA est enregistrée."))
    return redirect(reverse("matching:search-ipa", args=[search.pk]) + "#ipa")


def _proposed_gp(form: IpaProposeForm, gps: list) -> Professional | None:
    pk = form.cleaned_data["professional"]
    if pk is not None:
        if pk not in {gp.professional_id for gp in gps}:
            form.add_error("professional", _("Choisissez un médecin de la liste."))
            return None
        return selectors.professional_get(pk)
    professional = selectors.gp_by_rpps(form.cleaned_data["rpps"])
    if professional is None:
        form.add_error("rpps", _("Aucun médecin généraliste en exercice avec ce RPPS."))
    return professional


@access(*STAFF)
@require_POST
def search_ipa_propose(request, search_id: int):
    """The GP to whom the IPA proposed the file agreed: the search is his."""
    search = search_of(request, search_id)
    gps = ipa_gps(search)
    form = IpaProposeForm(request.POST, gps=gps)
    professional = _proposed_gp(form, gps) if form.is_valid() else None
    if professional is None:
        return _ipa_page(request, search, propose_form=form)
    try:
        services.ipa_propose(
            search=search,
            by=request.user,
            professional=professional,
            follow_up_mode=form.cleaned_data["follow_up_mode"],
            request=request,
        )
    except ValidationError as error:
        add_errors(form, error)
        return _ipa_page(
            request, search_of(request, search_id), status=error_status(error), propose_form=form
        )
    messages.success(
        request,
        _("%(name)s accepte le dossier proposé par l'IPA : enregistrez le choix de la personne.")
        % {"name": str(professional)},
    )
    return redirect("matching:search-detail", search.pk)


# --- The hand-off file for the CPAM médiateur ---------------------------------------------------


def _preferences(search: MTSearch) -> list[tuple[str, str]]:
    languages = dict(LANGUAGE_CHOICES)
    yes, no = _("oui"), _("non")
    return [
        (_("Sexe du médecin"), str(MTSearch.DoctorSex(search.doctor_sex).label)),
        (
            _("Langues"),
            ", ".join(str(languages.get(code, code)) for code in search.languages or []) or "—",
        ),
        (_("Distance maximale"), f"{search.max_distance_km} km"),
        (_("Rayon de la dernière recherche"), f"{search.radius_km} km"),
        (_("Visites à domicile nécessaires"), yes if search.home_visits else no),
        (_("Cabinet accessible (PMR)"), yes if search.accessibility else no),
        (_("Suivi nécessaire"), str(search.get_follow_up_display())),
        (
            _("Priorités"),
            ", ".join(
                str(Priority(code).label)
                for code in search.priorities or []
                if code in Priority.values
            )
            or "—",
        ),
        (_("Situation complexe"), yes if search.complex_situation else no),
    ]


def _handoff_events(search: MTSearch) -> list:
    return [event for event in selectors.search_timeline(search) if event.kind in HANDOFF_EVENTS]


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _handoff_csv(search: MTSearch) -> HttpResponse:
    """Every doctor asked (no data of the person: the file's number only)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads UTF-8 with a BOM
    writer = csv.writer(buffer, delimiter=";")
    how = {"email": _("E-mail"), "phone": _("Téléphone")}
    writer.writerow(
        [_("Date"), _("Médecin"), _("RPPS"), _("Sollicité par"), _("Réponse"), _("Motif")]
    )
    for line in selectors.handoff(search):
        writer.writerow(
            _cell(value)
            for value in (
                timezone.localtime(line.at).strftime("%d/%m/%Y %H:%M"),
                str(line.professional),
                line.professional.rpps,
                how.get(line.how, line.how),
                line.answer,
                line.reason,
            )
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"recherche-mt-{search.pk}-medecins-sollicites.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _handoff_page(request, search: MTSearch, *, status: int = 200, error: str = ""):
    asked = selectors.handoff(search)
    context = {
        "search": search,
        "person": search.person,
        "organisation": request.organisation,
        "preferences": _preferences(search),
        "events": _handoff_events(search),
        "asked": asked,
        "doctors_count": len({line.professional.pk for line in asked}),
        "can_hand_off": search.status == Status.OPEN and search.handed_off_at is None,
        "printed_at": timezone.now(),
        "error": error,
    }
    return render(request, "matching/search_handoff.html", context, status=status)


@access(*STAFF)
@require_http_methods(["GET", "POST"])
def search_handoff(request, search_id: int):
    """GET: the printable file (``?format=csv``: the doctors asked); POST: hand it off."""
    search = search_of(request, search_id)
    if request.method != "POST":
        if request.GET.get("format") == "csv":
            return _handoff_csv(search)
        return _handoff_page(request, search)
    try:
        services.mediator_handoff(search=search, by=request.user, request=request)
    except ValidationError as error:
        page = _handoff_page(
            request,
            search_of(request, search_id),
            status=error_status(error),
            error=" ".join(error.messages),
        )
        return page
    messages.success(request, _("Le dossier est passé au médiateur de la CPAM."))
    return redirect("matching:search-handoff", search.pk)


# --- Figures ----------------------------------------------------------------------------------


@access(*FIGURES)
@require_GET
def figures(request):
    """Counts for a period (the current calendar year by default): no person, no name."""
    form = FiguresForm(request.GET or None)
    valid = form.is_valid() if request.GET else True
    start, end = form.period()
    result = (
        selectors.figures(organisation=request.organisation, start=start, end=end)
        if valid
        else None
    )
    if not request.GET:
        form = FiguresForm(initial={"start": start, "end": end})
    return render(request, "matching/figures.html", {"form": form, "figures": result})
