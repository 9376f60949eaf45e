"""The team's saisine pages: the work queue, the phone quick entry, a saisine's page and
its triage. Coordinators and administrators; managers see figures elsewhere, never these.

Every change is a POST (CSRF) that redirects on success; on failure the page is shown
again with what was typed and a French message (409 for a conflict: the state changed, or
someone else changed the saisine since the page was shown). Reads of a saisine go through
``selectors.saisine_get`` (audited); the queue shows no personal data.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from parcours.accounts.access import access
from parcours.accounts.models import Role
from parcours.lib.forms import add_errors
from parcours.people import selectors as people_selectors

from . import complexity, selectors, services, staff_selectors, staff_services
from .models import Decision, Status
from .public_forms import REQUEST_LABELS
from .staff_forms import (
    AssignForm,
    CloseForm,
    ComplexityForm,
    DecisionNoteForm,
    DeclineForm,
    IdentityForm,
    InformationForm,
    LinkForm,
    NoteForm,
    OrientationForm,
    OrientationRecordForm,
    QueueFilterForm,
    QuickEntryForm,
    ResourceSearchForm,
)

STAFF = (Role.COORDINATOR, Role.ADMINISTRATOR)
FINAL = (Status.CLOSED, Status.DECLINED)


def _htmx(request) -> bool:
    """An htmx request for a fragment (a history restore wants the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _saisine(request, saisine_id: int):
    return selectors.saisine_get(
        organisation=request.organisation, saisine_id=saisine_id, user=request.user, request=request
    )


def _status(error: ValidationError) -> int:
    return 409 if isinstance(error, services.TransitionRefused) else 200


# --- The work queue ------------------------------------------------------------------------


@access(*STAFF)
@require_GET
def queue(request):
    """The coordinator's work queue: tabs with counts, filters; htmx swaps the list."""
    form = QueueFilterForm(request.GET)
    params = form.params()
    reader = {"organisation": request.organisation, "user": request.user}
    counts = staff_selectors.queue_counts(**reader, filters=params["filters"])
    page = staff_selectors.queue_page(
        **reader, tab=params["tab"], filters=params["filters"], page=params["page"]
    )
    tabs = [
        {"code": code, "label": label, "count": counts[code], "url": form.url(tab=code)}
        for code, label in staff_selectors.TABS
    ]
    context = {
        "form": form,
        "params": params,
        "tabs": tabs,
        "page": page,
        "previous_url": form.url(page=page.previous_page_number()) if page.has_previous() else "",
        "next_url": form.url(page=page.next_page_number()) if page.has_next() else "",
    }
    template = "saisines/_queue_list.html" if _htmx(request) else "saisines/staff_queue.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- Quick entry of a phone call -----------------------------------------------------------


@access(*STAFF)
def quick_entry(request):
    form = QuickEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            saisine = services.saisine_create(
                organisation=request.organisation,
                data={**form.saisine_data(), "assigned_to": request.user},
                by=request.user,
                submission_key=form.cleaned_data["submission_key"],
                request=request,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, _("Saisine %(reference)s enregistrée.") % {"reference": saisine.reference}
            )
            return redirect("saisines:saisine-detail", saisine.pk)
    return render(request, "saisines/staff_quick_entry.html", {"form": form})


# --- A saisine's page ----------------------------------------------------------------------


def _summary(saisine) -> dict:
    delays = selectors.saisine_delays(saisine)
    return {
        "saisine": saisine,
        "delays": delays,
        "delay_lines": staff_selectors.delay_lines(saisine, delays),
        "elapsed": staff_selectors.duration_label(delays["elapsed"]),
        "request_labels": [REQUEST_LABELS.get(code, code) for code in saisine.requests],
        "unverified_email": staff_selectors.requester_email_unverified(saisine),
        "level_label": complexity.complexity_level_label(saisine.complexity_level),
        "complexity_summary": complexity.complexity_summary(saisine.complexity or {}),
        "is_final": saisine.status in FINAL,
        "mt": _mt(saisine),
    }


def _mt(saisine):
    """The person's médecin traitant (directory), when known."""
    return saisine.person.medecin_traitant if saisine.person_id else None


def _detail_page(request, saisine, status: int = 200, **forms):
    version = {"version": saisine.version}
    context = {
        **_summary(saisine),
        "timeline": selectors.saisine_timeline(saisine),
        "orientations": selectors.saisine_orientations(saisine),
        "attachments": staff_selectors.saisine_attachments(saisine),
        "note_form": forms.get("note_form") or NoteForm(),
        "close_form": forms.get("close_form") or CloseForm(initial=version),
        "record_form": forms.get("record_form"),
        "record_for": forms.get("record_for"),
        "assigned_to_me": saisine.assigned_to_id == request.user.pk,
    }
    return render(request, "saisines/staff_detail.html", context, status=status)


@access(*STAFF)
@require_GET
def saisine_detail(request, saisine_id: int):
    return _detail_page(request, _saisine(request, saisine_id))


@access(*STAFF)
@require_POST
def saisine_note(request, saisine_id: int):
    saisine = _saisine(request, saisine_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.saisine_note(
                saisine=saisine, by=request.user, text=form.cleaned_data["text"], request=request
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Note ajoutée."))
            return redirect(reverse("saisines:saisine-detail", args=[saisine.pk]) + "#historique")
    return _detail_page(request, saisine, note_form=form)


@access(*STAFF)
@require_POST
def saisine_assign(request, saisine_id: int):
    saisine = _saisine(request, saisine_id)
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Action inconnue : rechargez la page."))
        return redirect("saisines:saisine-detail", saisine.pk)
    to = request.user if form.cleaned_data["to"] == AssignForm.ME else None
    try:
        staff_services.saisine_assign(
            saisine=saisine,
            by=request.user,
            to=to,
            expected=form.cleaned_data["expected"],
            request=request,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Vous suivez cette saisine.") if to else _("Suivi retiré."))
    return redirect("saisines:saisine-detail", saisine.pk)


@access(*STAFF)
@require_POST
def saisine_first_response(request, saisine_id: int):
    saisine = _saisine(request, saisine_id)
    if services.saisine_first_response(saisine=saisine, by=request.user, request=request):
        messages.success(request, _("Première réponse enregistrée."))
    else:
        messages.info(request, _("La première réponse était déjà enregistrée."))
    return redirect("saisines:saisine-detail", saisine.pk)


@access(*STAFF)
@require_POST
def saisine_close(request, saisine_id: int):
    saisine = _saisine(request, saisine_id)
    form = CloseForm(request.POST)
    if form.is_valid():
        form.apply_version(saisine)
        try:
            services.saisine_close(
                saisine=saisine,
                by=request.user,
                outcome=form.cleaned_data["outcome"],
                request=request,
            )
        except ValidationError as error:
            add_errors(form, error)
            return _detail_page(
                request, _saisine(request, saisine_id), _status(error), close_form=form
            )
        messages.success(request, _("Saisine clôturée."))
        return redirect("saisines:saisine-detail", saisine.pk)
    return _detail_page(request, saisine, close_form=form)


@access(*STAFF)
@require_POST
def saisine_inform_mt(request, saisine_id: int):
    saisine = _saisine(request, saisine_id)
    try:
        informed = services.saisine_inform_mt(saisine=saisine, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if informed:
            messages.success(request, _("Le médecin traitant est informé (sans détail clinique)."))
        elif saisine.mt_informed_at:
            messages.info(request, _("Le médecin traitant était déjà informé."))
        else:
            messages.warning(
                request,
                _(
                    "Le médecin traitant n'a pas d'adresse e-mail dans l'annuaire : "
                    "informez-le par téléphone, puis notez-le."
                ),
            )
    back = "triage" if request.POST.get("back") == "triage" else "detail"
    return redirect(f"saisines:saisine-{back}", saisine.pk)


@access(*STAFF)
@require_POST
def orientation_record(request, orientation_id: int):
    """An orientation's answer given by phone, entered by the team."""
    orientation = staff_selectors.orientation_get(
        organisation=request.organisation, orientation_id=orientation_id
    )
    saisine = _saisine(request, orientation.saisine_id)
    form = OrientationRecordForm(request.POST)
    if form.is_valid():
        try:
            services.orientation_answer(
                orientation=orientation,
                answer=form.cleaned_data["answer"],
                reason=form.cleaned_data["reason"],
                by=request.user,
                request=request,
            )
        except ValidationError as error:
            add_errors(form, error)
            status = _status(error)
        else:
            messages.success(request, _("Réponse enregistrée."))
            return redirect(reverse("saisines:saisine-detail", args=[saisine.pk]) + "#orientations")
    else:
        status = 200
    return _detail_page(request, saisine, status, record_form=form, record_for=orientation.pk)


# --- The triage ----------------------------------------------------------------------------


def _resources(request, q: str, kind: str, chosen_values) -> dict:
    """The resources already ticked, then the search's others."""
    organisation = request.organisation
    chosen = staff_selectors.resources_chosen(organisation=organisation, values=chosen_values)
    values = {item["value"] for item in chosen}
    results = staff_selectors.resource_search(organisation=organisation, q=q, kind=kind)
    return {
        "results": [item for item in results if item["value"] not in values],
        "chosen": chosen,
        "searched": bool(q.strip()),
    }


DECISION_FORM_NAMES = (
    "information_form",
    "orientation_form",
    "mt_search_form",
    "open_case_form",
)


def _triage_page(request, saisine, status: int = 200, **forms):
    version = {"version": saisine.version}
    identity_form = forms.get("identity_form")
    duplicates = forms.get("duplicates")
    if saisine.person_id is None and identity_form is None:
        guess = staff_selectors.identity_from_description(saisine.anonymous_description)
        identity_form = IdentityForm(initial={**version, **guess})
        if guess.get("birth_name") and guess.get("birth_date"):
            duplicates = people_selectors.person_duplicates_for_user(
                user=request.user, organisation=request.organisation, data=guess, request=request
            )
    search = ResourceSearchForm(request.GET or None)
    q = search.cleaned_data["q"] if search.is_valid() else ""
    kind = search.cleaned_data["kind"] if search.is_valid() else ""
    orientation_form = forms.get("orientation_form")
    chosen = orientation_form.data.getlist("resources") if orientation_form else []
    complexity_initial = {**(saisine.complexity or {}), **version}
    context = {
        **_summary(saisine),
        "identity_form": identity_form,
        "duplicates": duplicates,
        "link_version": saisine.version,
        "complexity_form": forms.get("complexity_form")
        or ComplexityForm(initial=complexity_initial),
        "information_form": forms.get("information_form") or InformationForm(initial=version),
        "orientation_form": orientation_form
        or OrientationForm(initial=version, organisation=request.organisation),
        "mt_search_form": forms.get("mt_search_form")
        or DecisionNoteForm(initial=version, prefix="mt"),
        "open_case_form": forms.get("open_case_form")
        or DecisionNoteForm(initial=version, prefix="case"),
        "decline_form": forms.get("decline_form") or DeclineForm(initial=version),
        "search_form": search,
        "can_decide": saisine.status in (Status.TRIAGED, Status.IN_PROGRESS),
        "decision_posted": any(name in forms for name in DECISION_FORM_NAMES),
        **_resources(request, q, kind, chosen),
    }
    return render(request, "saisines/staff_triage.html", context, status=status)


@access(*STAFF)
@require_GET
def saisine_triage(request, saisine_id: int):
    return _triage_page(request, _saisine(request, saisine_id))


@access(*STAFF)
@require_GET
def resource_search(request):
    """The directory resources matching the search (an htmx fragment of the triage)."""
    search = ResourceSearchForm(request.GET)
    valid = search.is_valid()
    context = _resources(
        request,
        search.cleaned_data["q"] if valid else "",
        search.cleaned_data["kind"] if valid else "",
        request.GET.getlist("resources"),
    )
    return render(request, "saisines/_staff_resources.html", context)


def _identify_search(request, form) -> list:
    return people_selectors.person_duplicates_for_user(
        user=request.user,
        organisation=request.organisation,
        data=form.person_data(),
        request=request,
    )


@access(*STAFF)
@require_POST
def saisine_identify(request, saisine_id: int):
    """Identify the person: look for duplicates, link a record, or create one."""
    saisine = _saisine(request, saisine_id)
    action = request.POST.get("action")
    if action == "link":
        return _identify_link(request, saisine)
    form = IdentityForm(request.POST)
    if not form.is_valid():
        return _triage_page(request, saisine, identity_form=form)
    duplicates = _identify_search(request, form)
    if action != "create" or (duplicates and not form.cleaned_data["confirm_duplicates"]):
        if action == "create":
            form.add_error(
                "confirm_duplicates",
                _("Des fiches proches existent : liez l'une d'elles, ou cochez cette case."),
            )
        return _triage_page(request, saisine, identity_form=form, duplicates=duplicates)
    form.apply_version(saisine)
    try:
        staff_services.saisine_identify_new(
            saisine=saisine, by=request.user, data=form.person_data(), request=request
        )
    except ValidationError as error:
        add_errors(form, error)
        return _triage_page(
            request,
            _saisine(request, saisine_id),
            _status(error),
            identity_form=form,
            duplicates=duplicates,
        )
    messages.success(request, _("La fiche de la personne est créée et liée à la saisine."))
    return redirect(reverse("saisines:saisine-triage", args=[saisine.pk]) + "#complexite")


def _identify_link(request, saisine):
    form = LinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Fiche inconnue : rechargez la page."))
        return redirect("saisines:saisine-triage", saisine.pk)
    person = people_selectors.person_get_for_user(
        user=request.user,
        organisation=request.organisation,
        person_id=form.cleaned_data["person"],
        request=request,
    )
    form.apply_version(saisine)
    try:
        staff_services.saisine_identify(
            saisine=saisine, by=request.user, person=person, request=request
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _triage_page(request, _saisine(request, saisine.pk), _status(error))
    messages.success(request, _("La saisine est liée à la fiche de la personne."))
    return redirect(reverse("saisines:saisine-triage", args=[saisine.pk]) + "#complexite")


@access(*STAFF)
@require_POST
def saisine_screen(request, saisine_id: int):
    """The complexity screening → triaged, with its level."""
    saisine = _saisine(request, saisine_id)
    form = ComplexityForm(request.POST)
    if form.is_valid():
        form.apply_version(saisine)
        try:
            saisine = staff_services.triage_screen(
                saisine=saisine, by=request.user, scores=form.scores(), request=request
            )
        except ValidationError as error:
            add_errors(form, error)
            return _triage_page(
                request, _saisine(request, saisine_id), _status(error), complexity_form=form
            )
        level = complexity.complexity_level_label(saisine.complexity_level)
        messages.success(request, _("Repérage enregistré : %(level)s.") % {"level": level})
        return redirect(reverse("saisines:saisine-triage", args=[saisine.pk]) + "#decision")
    return _triage_page(request, saisine, complexity_form=form)


DECISION_FORMS = {
    Decision.INFORMATION: ("information_form", InformationForm, {}),
    Decision.MT_SEARCH: ("mt_search_form", DecisionNoteForm, {"prefix": "mt"}),
    Decision.OPEN_CASE: ("open_case_form", DecisionNoteForm, {"prefix": "case"}),
    Decision.DECLINE: ("decline_form", DeclineForm, {}),
}
DECIDED = {
    Decision.INFORMATION: _("Information donnée : la saisine est clôturée."),
    Decision.DECLINE: _("La saisine n'est pas retenue ; le motif est enregistré."),
    Decision.OPEN_CASE: _(
        "Décision enregistrée : ouverture d'un accompagnement. Le module des accompagnements "
        "n'existe pas encore : la saisine reste en cours."
    ),
    Decision.MT_SEARCH: _(
        "Décision enregistrée : recherche d'un médecin traitant. Indiquez les préférences de "
        "la personne pour ouvrir la recherche."
    ),
}


def _decide(request, saisine, decision: str, form) -> None:
    data = form.cleaned_data
    if decision == Decision.INFORMATION:
        staff_services.triage_inform(
            saisine=saisine, by=request.user, what=data["what"], request=request
        )
    elif decision == Decision.DECLINE:
        services.saisine_decline(
            saisine=saisine, by=request.user, reason=data["reason"], request=request
        )
    else:
        services.saisine_decide(
            saisine=saisine, by=request.user, decision=decision, note=data["note"], request=request
        )


@access(*STAFF)
@require_POST
def saisine_decide(request, saisine_id: int):
    """Information given, MT search, open a case, or decline (orientation: saisine_orient)."""
    saisine = _saisine(request, saisine_id)
    decision = request.POST.get("decision")
    if decision not in DECISION_FORMS:
        messages.error(request, _("Choisissez une décision."))
        return redirect("saisines:saisine-triage", saisine.pk)
    name, form_class, options = DECISION_FORMS[decision]
    form = form_class(request.POST, **options)
    if not form.is_valid():
        return _triage_page(request, saisine, **{name: form})
    form.apply_version(saisine)
    try:
        _decide(request, saisine, decision, form)
    except ValidationError as error:
        add_errors(form, error)
        return _triage_page(request, _saisine(request, saisine_id), _status(error), **{name: form})
    messages.success(request, DECIDED[decision])
    if decision == Decision.MT_SEARCH:  # the matching module opens the search (by URL name)
        return redirect("matching:search-open-saisine", saisine.pk)
    return redirect("saisines:saisine-detail", saisine.pk)


@access(*STAFF)
@require_POST
def saisine_orient(request, saisine_id: int):
    """Orientation to one or more directory resources: decided, then sent to each."""
    saisine = _saisine(request, saisine_id)
    form = OrientationForm(request.POST, organisation=request.organisation)
    if not form.is_valid():
        return _triage_page(request, saisine, orientation_form=form)
    form.apply_version(saisine)
    data = form.cleaned_data
    try:
        sent, failed = staff_services.triage_orient(
            saisine=saisine,
            by=request.user,
            resources=data["resources"],
            message=data["message"],
            by_phone=data["by_phone"],
            request=request,
        )
    except ValidationError as error:
        add_errors(form, error)
        return _triage_page(
            request, _saisine(request, saisine_id), _status(error), orientation_form=form
        )
    for orientation in sent:
        messages.success(
            request, _("Orientation envoyée à %(name)s.") % {"name": orientation.recipient_name}
        )
    for problem in failed:
        messages.error(request, problem)
    return redirect(reverse("saisines:saisine-detail", args=[saisine.pk]) + "#orientations")
