from django.http import JsonResponse
from django.shortcuts import render

from parcours.accounts.access import access
from parcours.accounts.models import Role

from . import selectors

TERRITORY_ROLES = (Role.COORDINATOR, Role.MANAGER, Role.ADMINISTRATOR)


@access(*TERRITORY_ROLES)
def detail(request):
    """The territory page: figures, map of the communes and the same communes as a table."""
    context = selectors.territory_detail(organisation=request.organisation)
    context.update(selectors.territory_map_settings())
    return render(request, "territory/detail.html", context)


@access(*TERRITORY_ROLES)
def communes_geojson(request):
    """The organisation's communes as GeoJSON points, for the map."""
    collection = selectors.territory_communes_geojson(organisation=request.organisation)
    return JsonResponse(
        collection, content_type="application/geo+json", json_dumps_params={"ensure_ascii": False}
    )
