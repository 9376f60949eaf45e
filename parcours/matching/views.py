"""The coordinator's pages of the médecin traitant search: the list (priority first), the
opening (for a person, or from a saisine), a search's page (person, preferences, what
comes next, the explained ranking, the solicitations by wave, the timeline) and its
actions: a wave of solicitations, the person's choice, the declaration, the closure.

Coordinators and administrators. Every change is a POST (CSRF) that redirects on success;
on failure the page is shown again with what was typed and a French message (409 when the
search's state no longer allows the action, or it changed since the page was shown).
Reads go through the selectors (audited): ``search_get``, ``person_get_for_user``,
``saisine_get``.
"""

import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from parcours.accounts.access import access
from parcours.accounts.models import Role
from parcours.audit.models import Action
from parcours.audit.services import audit_log
from parcours.lib.forms import add_errors
from parcours.people import selectors as people_selectors
from parcours.saisines import selectors as saisine_selectors
from parcours.saisines.complexity import COMPLEX

from . import selectors, services
from .forms import (
    LANGUAGE_CHOICES,
    STATUS_RUNNING,
    ChoiceForm,
    CloseForm,
    DeclaredForm,
    ListFilterForm,
    PreferencesForm,
    PreferencesUpdateForm,
    person_language_codes,
)
from .models import MTSearch, Priority

STAFF = (Role.COORDINATOR, Role.ADMINISTRATOR)
Status = MTSearch.Status
Stage = MTSearch.Stage
PAGE_SIZE = 50
RANKING_SHOWN = 20
CRITERIA = {
    "distance": gettext_lazy("Distance"),
    "accepting": gettext_lazy("Disponibilité"),
    "capacity": gettext_lazy("Places déclarées"),
    "sex": gettext_lazy("Sexe du médecin"),
    "languages": gettext_lazy("Langues"),
    "home_visits": gettext_lazy("Visites à domicile"),
    "age_group": gettext_lazy("Tranche d'âge"),
    "fairness": gettext_lazy("Rotation entre médecins"),
}
LANGUAGE_LABELS = dict(LANGUAGE_CHOICES)


def search_of(request, search_id: int) -> MTSearch:
    return selectors.search_get(
        organisation=request.organisation, search_id=search_id, user=request.user, request=request
    )


def _code(error: ValidationError) -> str:
    return "" if hasattr(error, "error_dict") else (error.code or "")


def error_status(error: ValidationError) -> int:
    conflict = isinstance(error, services.SearchRefused) or _code(error) in ("version", "duplicate")
    return 409 if conflict else 200


def _failed(request, search_id: int, error: ValidationError, name: str, form):
    """The page again after a service refused: a state that no longer allows the action is
    said on top (its form may be gone), an input error next to its field."""
    search = search_of(request, search_id)
    if isinstance(error, services.SearchRefused):
        messages.error(request, " ".join(error.messages))
        return _detail_page(request, search, 409)
    add_errors(form, error)
    return _detail_page(request, search, error_status(error), **{name: form})


def _detail_url(search, anchor: str = "") -> str:
    return reverse("matching:search-detail", args=[search.pk]) + (f"#{anchor}" if anchor else "")


def priority_labels(codes) -> list[str]:
    return [str(Priority(code).label) for code in codes or [] if code in Priority.values]


# --- The list ------------------------------------------------------------------------------


@access(*STAFF)
@require_GET
def search_list(request):
    """Searches by status; those in progress with more priorities first, then the oldest."""
    form = ListFilterForm(request.GET or None)
    status = form.chosen_status()
    searches = selectors.search_list(organisation=request.organisation, status=status)
    if status in (Status.DECLARED, Status.CLOSED):
        searches = searches.order_by("-opened_at", "-pk")
    else:
        searches = selectors.priority_sorted(searches)
    page = Paginator(searches, PAGE_SIZE).get_page(request.GET.get("page"))
    for search in page.object_list:
        search.priority_labels = priority_labels(search.priorities)
    audit_log(
        action=Action.READ,
        request=request,
        object_type="people.person",
        details={"list": "mt_searches", "ids": [s.person_id for s in page.object_list]},
    )
    context = {"form": form, "page": page, "status": status, "running": STATUS_RUNNING}
    return render(request, "matching/search_list.html", context)


# --- Opening -------------------------------------------------------------------------------


def _open_page(request, *, person, saisine=None):
    organisation = request.organisation
    initial = {
        "priorities": services.default_priorities(person),
        "languages": person_language_codes(person),
    }
    if saisine is not None and saisine.complexity_level is not None:
        initial["complex_situation"] = saisine.complexity_level >= COMPLEX
    form = PreferencesForm(request.POST or None, initial=initial)
    status, code = 200, ""
    if request.method == "POST" and form.is_valid():
        try:
            search = services.search_open(
                organisation=organisation,
                person=person,
                by=request.user,
                data=form.preferences(),
                saisine=saisine,
                request=request,
            )
        except ValidationError as error:
            add_errors(form, error)
            status, code = error_status(error), _code(error)
        else:
            messages.success(
                request,
                _("Recherche ouverte : sollicitez les premiers médecins du classement."),
            )
            return redirect("matching:search-detail", search.pk)
    context = {
        "form": form,
        "person": person,
        "age": services.person_age(person),
        "saisine": saisine,
        "running": selectors.search_running_for_person(organisation=organisation, person=person),
        "error_code": code,
    }
    return render(request, "matching/search_open.html", context, status=status)


@access(*STAFF)
def search_open_person(request, person_id: int):
    person = people_selectors.person_get_for_user(
        user=request.user, organisation=request.organisation, person_id=person_id, request=request
    )
    return _open_page(request, person=person)


@access(*STAFF)
def search_open_saisine(request, saisine_id: int):
    saisine = saisine_selectors.saisine_get(
        organisation=request.organisation, saisine_id=saisine_id, user=request.user, request=request
    )
    if saisine.person_id is None:
        status = 409 if request.method == "POST" else 200
        context = {"saisine": saisine, "no_person": True}
        return render(request, "matching/search_open.html", context, status=status)
    person = people_selectors.person_get_for_user(
        user=request.user,
        organisation=request.organisation,
        person_id=saisine.person_id,
        request=request,
    )
    return _open_page(request, person=person, saisine=saisine)


# --- A search's page -----------------------------------------------------------------------


def next_step(search: MTSearch, now: datetime.datetime | None = None) -> dict | None:
    """What comes next for the search, and when the scheduler does it if nobody acts."""
    if search.status == Status.ACCEPTED:
        return {"text": _("Proposez ce médecin à la personne, puis enregistrez son choix.")}
    if search.status == Status.FOUND:
        return {
            "text": _(
                "Quand la personne a déclaré ce médecin comme médecin traitant auprès de sa "
                "caisse, enregistrez la date de la déclaration."
            )
        }
    if search.status != Status.OPEN:
        return None
    if search.stage == Stage.MEDIATOR:
        return {"text": _("Transmettez le dossier au médiateur de la CPAM.")}
    delay, text = _stage_delay(search)
    at = search.stage_started_at + delay
    return {"text": text, "at": at, "overdue": at <= (now or timezone.now())}


def _stage_delay(search: MTSearch) -> tuple[datetime.timedelta, str]:
    days = datetime.timedelta(days=1)
    if search.stage == Stage.WAVES:
        delay = datetime.timedelta(hours=settings.MATCHING_WAVE_HOURS)
        if search.wave == 0:
            return delay, _("Aucun médecin sollicité : sans action, la première vague part")
        if search.wave < settings.MATCHING_WAVES:
            return delay, _("Sans acceptation, la vague %(n)s part") % {"n": search.wave + 1}
        return delay, _("Sans acceptation, le tour d'appels des médecins commence")
    if search.stage == Stage.CALL_ROUND:
        radius = min(
            search.radius_km * settings.MATCHING_WIDER_FACTOR, services.MAX_DISTANCE_KM * 2
        )
        return settings.MATCHING_CALL_ROUND_DAYS * days, _(
            "Sans médecin trouvé, le rayon de recherche passe à %(km)s km"
        ) % {"km": radius}
    if search.stage == Stage.WIDER:
        if services.ipa_eligible(search):
            text = _("Sans médecin trouvé, la recherche passe au parcours IPA")
        else:
            text = _("Sans médecin trouvé, le dossier passe au médiateur de la CPAM")
        return settings.MATCHING_WIDER_DAYS * days, text
    return settings.MATCHING_IPA_DAYS * days, _(
        "Sans médecin trouvé par l'IPA, le dossier passe au médiateur de la CPAM"
    )


def _ranking(search: MTSearch) -> list:
    """The candidates not asked yet, each with its explanation lines labelled."""
    if search.status != Status.OPEN:
        return []
    # One more than shown: enough to say whether there are more (a dense city holds
    # thousands of candidates; the first ones are found without ranking them all).
    ranked = services.search_ranking(search, limit=RANKING_SHOWN + 1)
    for candidate in ranked:
        candidate.lines = [
            {**line, "label": CRITERIA.get(line["code"], line["code"])}
            for line in candidate.explanation
        ]
    return ranked


def _detail_page(request, search: MTSearch, status: int = 200, **forms):
    version = {"version": search.version}
    ranked = _ranking(search)
    reachable = [candidate for candidate in ranked if candidate.email]
    accepted = search.accepted_professional
    context = {
        "search": search,
        "person": search.person,
        "age": services.person_age(search.person),
        "priority_labels": priority_labels(search.priorities),
        "language_labels": [LANGUAGE_LABELS.get(code, code) for code in search.languages or []],
        "next_step": next_step(search),
        "ranking": ranked[:RANKING_SHOWN],
        "ranking_more": len(ranked) > RANKING_SHOWN,
        "ranking_count": min(len(ranked), RANKING_SHOWN),
        "wave_size": min(settings.MATCHING_WAVE_SIZE, len(reachable)),
        "can_send_wave": search.status == Status.OPEN
        and search.stage in (Stage.WAVES, Stage.WIDER),
        "solicitations": selectors.search_solicitations(search),
        "timeline": selectors.search_timeline(search),
        "accepted_phone": selectors.situation_phone(accepted.pk) if accepted else "",
        "ipa_eligible": services.ipa_eligible(search),
        "preferences_form": forms.get("preferences_form")
        or PreferencesUpdateForm(initial={**PreferencesForm.initial_for(search), **version}),
        "choice_form": forms.get("choice_form") or ChoiceForm(),
        "declared_form": forms.get("declared_form") or DeclaredForm(),
        "close_form": forms.get("close_form") or CloseForm(),
    }
    return render(request, "matching/search_detail.html", context, status=status)


@access(*STAFF)
@require_GET
def search_detail(request, search_id: int):
    return _detail_page(request, search_of(request, search_id))


@access(*STAFF)
@require_POST
def search_update(request, search_id: int):
    """The preferences and the priority (version-checked)."""
    search = search_of(request, search_id)
    form = PreferencesUpdateForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, search, preferences_form=form)
    try:
        services.search_update(
            search=search,
            by=request.user,
            data=form.preferences(),
            version=form.cleaned_data["version"],
            request=request,
        )
    except ValidationError as error:
        return _failed(request, search_id, error, "preferences_form", form)
    messages.success(request, _("Les préférences sont enregistrées."))
    return redirect(_detail_url(search, "preferences"))


@access(*STAFF)
@require_POST
def search_wave(request, search_id: int):
    """Ask the next best candidates by e-mail (the page said which wave it was at)."""
    search = search_of(request, search_id)
    if request.POST.get("wave") != str(search.wave):
        messages.info(request, _("Une vague vient d'être envoyée : voici la recherche à jour."))
        return redirect(_detail_url(search, "sollicitations"))
    try:
        sent = services.wave_send(search=search, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_detail_url(search))
    if sent:
        messages.success(
            request,
            ngettext(
                "%(n)s médecin sollicité par e-mail (vague %(wave)s).",
                "%(n)s médecins sollicités par e-mail (vague %(wave)s).",
                len(sent),
            )
            % {"n": len(sent), "wave": search.wave},
        )
    else:
        messages.warning(
            request,
            _(
                "Plus aucun médecin du vivier à solliciter dans le rayon de %(km)s km : "
                "élargissez la distance maximale ou appelez les médecins."
            )
            % {"km": search.radius_km},
        )
    return redirect(_detail_url(search, "sollicitations"))


@access(*STAFF)
@require_POST
def search_choice(request, search_id: int):
    """The person's answer to the GP who accepted."""
    search = search_of(request, search_id)
    form = ChoiceForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, search, choice_form=form)
    professional = search.accepted_professional
    try:
        services.person_choice_record(
            search=search,
            by=request.user,
            choice=form.cleaned_data["choice"],
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except ValidationError as error:
        return _failed(request, search_id, error, "choice_form", form)
    if form.cleaned_data["choice"] == MTSearch.Choice.ACCEPTED:
        text = _("La personne choisit %(name)s : médecin traitant trouvé.")
    else:
        text = _("Le refus de %(name)s est enregistré : la recherche reprend.")
    messages.success(request, text % {"name": str(professional)})
    return redirect(_detail_url(search))


@access(*STAFF)
@require_POST
def search_declared(request, search_id: int):
    """The outcome: the person declared the GP as médecin traitant."""
    search = search_of(request, search_id)
    form = DeclaredForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, search, declared_form=form)
    try:
        services.mt_declared(
            search=search,
            by=request.user,
            declared_on=form.cleaned_data["declared_on"],
            request=request,
        )
    except ValidationError as error:
        return _failed(request, search_id, error, "declared_form", form)
    messages.success(request, _("Médecin traitant déclaré : la recherche est terminée."))
    return redirect(_detail_url(search))


@access(*STAFF)
@require_POST
def search_close(request, search_id: int):
    """End the search without a médecin traitant."""
    search = search_of(request, search_id)
    form = CloseForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, search, close_form=form)
    try:
        services.search_close(
            search=search, by=request.user, reason=form.cleaned_data["reason"], request=request
        )
    except ValidationError as error:
        return _failed(request, search_id, error, "close_form", form)
    messages.success(request, _("La recherche est close."))
    return redirect(_detail_url(search))
