from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from parcours.accounts.access import PUBLIC, access
from parcours.accounts.models import Role
from parcours.lib.ratelimit import rate_limited as shared_rate_limited
from parcours.territory.selectors import territory_commune_choices as territory_communes
from parcours.territory.selectors import territory_map_settings

from . import selectors, services
from .annuaire import (
    active_filters,
    annuaire_entry,
    annuaire_items,
    facet_groups,
    parse_bbox,
)
from .forms import AnnuaireSearchForm, ServiceForm
from .search import directory_map, directory_search

READERS = (Role.COORDINATOR, Role.MANAGER, Role.ADMINISTRATOR)
EDITORS = (Role.COORDINATOR, Role.ADMINISTRATOR)


@access(*READERS)
def service_list(request):
    archived = request.GET.get("archives") == "1"
    items = selectors.service_list(organisation=request.organisation, archived=archived)
    return render(request, "directory/service_list.html", {"services": items, "archived": archived})


@access(*EDITORS)
def service_create(request):
    form = ServiceForm(
        request.POST or None, communes=territory_communes(organisation=request.organisation)
    )
    if request.method == "POST" and form.is_valid():
        service = services.service_create(
            organisation=request.organisation,
            by=request.user,
            data=form.service_data(),
            request=request,
        )
        messages.success(
            request, _("Le service « %(name)s » est enregistré.") % {"name": service.name}
        )
        return redirect("directory:service-list")
    return render(request, "directory/service_form.html", {"form": form})


@access(*EDITORS)
def service_edit(request, service_id: int):
    service = selectors.service_get(organisation=request.organisation, service_id=service_id)
    communes = territory_communes(organisation=request.organisation)
    form = ServiceForm(request.POST or None, instance=service, communes=communes)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_update(
                service=service,
                version=form.cleaned_data["version"] or 0,
                by=request.user,
                data=form.service_data(),
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Les modifications sont enregistrées."))
            return redirect("directory:service-list")
    return render(request, "directory/service_form.html", {"form": form, "service": service})


@access(*EDITORS)
@require_POST
def service_archive(request, service_id: int):
    service = selectors.service_get(organisation=request.organisation, service_id=service_id)
    archived = request.POST.get("archived") == "1"
    services.service_archive(service=service, archived=archived, by=request.user, request=request)
    messages.success(request, _("Service archivé.") if archived else _("Service rétabli."))
    return redirect("directory:service-list")


# --- The annuaire: public search, staff search, entries, map ---------------------------------


SEARCHES_LIMITED = gettext_lazy(
    "Trop de recherches depuis votre connexion en peu de temps. "
    "Patientez une minute avant de recommencer."
)


def rate_limited(group: str, setting: str, default: str, *, json: bool = False):
    """Refuse with 429 (a French page, or JSON) past ``settings.<setting>`` requests per IP."""
    return shared_rate_limited(
        group,
        setting,
        default,
        template="directory/annuaire_limited.html",
        message=SEARCHES_LIMITED,
        json=json,
    )


GUIDE_RESULTS = 3  # guide social pages shown beside the directory's results


def _search_page(request, *, staff: bool, template: str):
    form = AnnuaireSearchForm(request.GET or None, staff=staff)
    organisation = request.organisation if staff else None
    context = {
        "form": form,
        "staff": staff,
        "searched": False,
        "can_edit": staff and request.membership.role in EDITORS,
        "map": territory_map_settings(),
    }
    if form.is_bound and form.is_valid() and form.has_criteria():
        query = form.search_query()
        result = directory_search(query=query, organisation=organisation)
        if query.page == 1:
            services.consultation_record(public=not staff)
        context.update(
            searched=True,
            result=result,
            query=query,
            commune=form.cleaned_data["commune"],
            items=annuaire_items(result.page, organisation=organisation, private=staff),
            facets=facet_groups(result.facets, request.GET, organisation=organisation, staff=staff),
            active_filters=active_filters(request.GET, organisation=organisation, staff=staff),
            map_params=request.GET.urlencode(),
            guide=selectors.guide_search(query.q)[:GUIDE_RESULTS] if query.q else [],
        )
    return render(request, template, context)


def _search_map(request, *, staff: bool):
    form = AnnuaireSearchForm(request.GET, staff=staff)
    bbox = parse_bbox(request.GET.get("bbox", ""))
    if bbox is None or not form.is_valid():
        errors = [str(e) for field in form.errors.values() for e in field] if form.is_bound else []
        message = _("bbox attend « ouest,sud,est,nord » en degrés.") if bbox is None else ""
        return JsonResponse({"detail": " ".join(filter(None, [message, *errors]))}, status=422)
    organisation = request.organisation if staff else None
    return JsonResponse(
        directory_map(query=form.search_query(), bbox=bbox, organisation=organisation)
    )


def _entry_page(request, kind: str, ref_id: int, *, staff: bool):
    entry = annuaire_entry(
        kind=kind,
        ref_id=ref_id,
        organisation=request.organisation if staff else None,
        private=staff,
    )
    back = request.GET.get("retour", "")
    search_url = reverse("directory:search" if staff else "directory:annuaire")
    context = {
        "entry": entry,
        "staff": staff,
        "can_edit": staff and request.membership.role in EDITORS,
        "map": territory_map_settings(),
        "back_url": f"{search_url}?{back}" if back else search_url,
    }
    return render(request, "directory/annuaire_detail.html", context)


@access(PUBLIC)
@rate_limited("annuaire", "ANNUAIRE_RATE_LIMIT", "60/m")
def annuaire(request):
    """The public annuaire: anyone, no login; public fields only."""
    return _search_page(request, staff=False, template="directory/annuaire.html")


@access(PUBLIC)
@rate_limited("annuaire", "ANNUAIRE_RATE_LIMIT", "60/m")
def annuaire_detail(request, kind: str, ref_id: int):
    return _entry_page(request, kind, ref_id, staff=False)


@access(PUBLIC)
@rate_limited("annuaire-map", "ANNUAIRE_MAP_RATE_LIMIT", "300/m", json=True)
def annuaire_map(request):
    return _search_map(request, staff=False)


@access(*READERS)
def search(request):
    """The staff search: private fields, the organisation's services, availability."""
    return _search_page(request, staff=True, template="directory/search.html")


@access(*READERS)
def search_detail(request, kind: str, ref_id: int):
    return _entry_page(request, kind, ref_id, staff=True)


@access(*READERS)
def search_map(request):
    return _search_map(request, staff=True)
