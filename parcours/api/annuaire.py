"""The directory's JSON endpoints: thin, over the same selectors as the HTML pages."""

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from parcours.accounts.models import STAFF_ROLES
from parcours.directory.models import Availability
from parcours.directory.search import SearchQuery, directory_map, directory_search, search_items

from .schemas import AnnuaireMap, AnnuairePage

router = Router(tags=["annuaire"])


class SearchParams(Schema):
    q: str = ""
    commune: str = ""
    radius_km: float | None = None
    profession: str = ""
    savoir_faire: str = ""
    category: str = ""
    kind: str = ""
    mode: str = ""
    language: str = ""
    accepting: str = ""  # GPs accepting new patients: members only (the team's survey)
    page: int = 1


def _query(params: SearchParams, request) -> SearchQuery:
    if params.radius_km is not None and not 0 < params.radius_km <= 200:
        raise HttpError(422, _("Le rayon doit être compris entre 0 et 200 km."))
    if params.accepting:
        membership = getattr(request, "membership", None)
        if membership is None or membership.role not in STAFF_ROLES:
            raise HttpError(
                403, _("Le filtre « accepte de nouveaux patients » est réservé aux équipes.")
            )
        if params.accepting not in Availability.Accepting.values:
            raise HttpError(422, _("accepting attend now, within_6_months ou no."))
    return SearchQuery(
        q=params.q[:200],
        near_commune=params.commune,
        radius_km=params.radius_km,
        profession_code=params.profession,
        savoir_faire_code=params.savoir_faire,
        category_code=params.category,
        kind=params.kind,
        mode=params.mode,
        language=params.language,
        accepting=params.accepting,
        page=max(params.page, 1),
    )


@router.get(
    "/search",
    response=AnnuairePage,
    summary="Rechercher dans l'annuaire",
    url_name="annuaire-search",
)
def search(request, params: Query[SearchParams]):
    result = directory_search(query=_query(params, request), organisation=request.organisation)
    page = result.page
    return {
        "count": page.paginator.count,
        "more": result.more,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "items": search_items(page),
        "facets": result.facets,
    }


@router.get(
    "/map",
    response=AnnuaireMap,
    summary="Points ou regroupements dans une zone de carte",
    url_name="annuaire-map",
)
def map_view(request, bbox: str, params: Query[SearchParams]):
    try:
        west, south, east, north = (float(value) for value in bbox.split(","))
    except ValueError:
        raise HttpError(422, _("bbox attend « ouest,sud,est,nord » en degrés.")) from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise HttpError(422, _("bbox attend « ouest,sud,est,nord » en degrés."))
    return directory_map(
        query=_query(params, request),
        bbox=(west, south, east, north),
        organisation=request.organisation,
    )
