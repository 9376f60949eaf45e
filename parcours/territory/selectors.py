"""Reads on territories: the organisation's communes, its map and its figures.

Called inside the request's scope (``request.organisation``); each selector also filters
by the organisation it is given, so that a territory is never read for another one.
"""

from django.conf import settings
from django.db.models import Count, QuerySet, Sum

from parcours.accounts.models import Organisation

from .models import Commune, PriorityNeighbourhood, Territory


def territory_for_organisation(*, organisation: Organisation | None) -> Territory | None:
    if organisation is None:
        return None
    return Territory.objects.filter(organisation=organisation).first()


def territory_communes(*, territory: Territory) -> list[Commune]:
    return list(territory.communes.order_by("name", "insee"))


def territory_commune_choices(*, organisation: Organisation | None) -> QuerySet[Commune]:
    """The organisation's communes as a queryset (form choices); none without a territory."""
    if organisation is None:
        return Commune.objects.none()
    return Commune.objects.filter(territories__organisation=organisation).order_by("name")


def territory_neighbourhoods(*, territory: Territory) -> list[PriorityNeighbourhood]:
    return list(
        PriorityNeighbourhood.objects.filter(territory=territory)
        .prefetch_related("communes")
        .order_by("name")
    )


def territory_summary(*, organisation: Organisation | None) -> dict:
    """Figures for home pages: ``{}`` when the organisation has no territory, else
    ``name``, ``communes`` (count), ``population`` (total, ``None`` when unknown) and
    ``neighbourhoods`` (count of priority neighbourhoods)."""
    territory = territory_for_organisation(organisation=organisation)
    if territory is None:
        return {}
    figures = territory.communes.aggregate(communes=Count("insee"), population=Sum("population"))
    neighbourhoods = PriorityNeighbourhood.objects.filter(territory=territory).count()
    return {"name": territory.name, **figures, "neighbourhoods": neighbourhoods}


def territory_detail(*, organisation: Organisation | None) -> dict:
    """Everything the territory page shows; ``territory`` is ``None`` when there is none."""
    territory = territory_for_organisation(organisation=organisation)
    if territory is None:
        return {"territory": None, "summary": {}, "communes": [], "neighbourhoods": []}
    return {
        "territory": territory,
        "summary": territory_summary(organisation=organisation),
        "communes": territory_communes(territory=territory),
        "neighbourhoods": territory_neighbourhoods(territory=territory),
    }


def territory_communes_geojson(*, organisation: Organisation | None) -> dict:
    """The organisation's communes as a GeoJSON FeatureCollection of points.

    A commune whose centre is not known yet has a null geometry (RFC 7946, 3.2): it is
    listed but not drawn.
    """
    territory = territory_for_organisation(organisation=organisation)
    communes = [] if territory is None else territory_communes(territory=territory)
    return {"type": "FeatureCollection", "features": [_feature(commune) for commune in communes]}


def _feature(commune: Commune) -> dict:
    return {
        "type": "Feature",
        "id": commune.insee,
        # GeoJSON puts longitude first.
        "geometry": {"type": "Point", "coordinates": [commune.longitude, commune.latitude]}
        if commune.has_centre
        else None,
        "properties": {
            "insee": commune.insee,
            "name": commune.name,
            "population": commune.population,
            "postal_codes": list(commune.postal_codes),
        },
    }


def territory_map_settings() -> dict:
    """What ``territory/_map.html`` needs besides the territory: the tile server."""
    return {
        "MAP_TILE_URL": settings.MAP_TILE_URL,
        "MAP_TILE_ATTRIBUTION": settings.MAP_TILE_ATTRIBUTION,
    }
