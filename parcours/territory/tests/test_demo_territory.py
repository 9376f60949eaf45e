"""The demo territory: the CPTS of Vénissieux and its neighbours, built idempotently."""

import csv
import json
import math

import pytest
from django_scopes import scopes_disabled

from parcours.territory.models import Commune, PriorityNeighbourhood, Territory
from parcours.territory.services import (
    DEMO_TERRITORY,
    OFFICIAL_COMMUNES,
    communes_import,
    territory_load_demo,
)

from .helpers import shared_centres, write_source

DEMO = json.loads(DEMO_TERRITORY.read_text(encoding="utf-8"))
DEMO_CODES = {"69259", "69199", "69388", "69387", "69029", "69290", "69273", "69276", "69283"}


def counts():
    with scopes_disabled():
        return (
            Commune.objects.count(),
            Territory.objects.count(),
            PriorityNeighbourhood.objects.count(),
            Territory.communes.through.objects.count(),
            PriorityNeighbourhood.communes.through.objects.count(),
        )


@pytest.mark.django_db
def test_it_builds_the_territory_without_the_national_list(org_a):
    territory = territory_load_demo(organisation=org_a)

    with scopes_disabled():
        assert set(territory.communes.values_list("insee", flat=True)) == DEMO_CODES
        assert all(commune.has_centre for commune in territory.communes.all())
        minguettes = PriorityNeighbourhood.objects.get(territory=territory, code="QN06901M")
        assert minguettes.name == "Minguettes - Clochettes"
        assert set(minguettes.communes.values_list("insee", flat=True)) == {"69259", "69199"}
        assert territory.priority_neighbourhoods.count() == 2
    assert Commune.objects.get(insee="69259").postal_codes == ["69200"]


@pytest.mark.django_db
def test_it_changes_nothing_the_second_time(org_a):
    first = territory_load_demo(organisation=org_a)
    before = counts()

    second = territory_load_demo(organisation=org_a)

    assert second.pk == first.pk
    assert counts() == before


@pytest.mark.django_db
def test_it_reuses_imported_communes_and_gives_them_a_centre_when_missing(org_a, tmp_path):
    assert communes_import(source=write_source(tmp_path)).ok  # Vénissieux, Lyon 8e, no centres
    Commune.objects.filter(insee="69388").update(latitude=45.7, longitude=4.87)

    territory_load_demo(organisation=org_a)

    venissieux = Commune.objects.get(insee="69259")
    assert venissieux.has_centre
    lyon_8 = Commune.objects.get(insee="69388")
    assert (lyon_8.latitude, lyon_8.longitude) == (45.7, 4.87)  # a known centre is kept
    assert lyon_8.parent_id == "69123"


@pytest.mark.django_db
def test_each_organisation_gets_its_own_territory(org_a, org_b):
    a = territory_load_demo(organisation=org_a)
    b = territory_load_demo(organisation=org_b)

    assert a.pk != b.pk
    assert Commune.objects.count() == len(DEMO_CODES)


def test_the_fixture_agrees_with_the_official_list():
    import gzip

    official = {
        record["code"]: record
        for record in json.loads(gzip.decompress(OFFICIAL_COMMUNES.read_bytes()))
        if record["type"] in ("commune-actuelle", "arrondissement-municipal")
    }
    for commune in DEMO["communes"]:
        record = official[commune["insee"]]
        assert commune["name"] == record["nom"]
        assert commune["postal_codes"] == record["codesPostaux"]
        assert commune["population"] == record["population"]


def test_the_fixture_centres_are_within_3_km_of_the_real_sample():
    with open(shared_centres(), encoding="utf-8") as sample:
        real = {
            row["insee_com"]: (float(row["lat"]), float(row["lng"]))
            for row in csv.DictReader(sample)
            if row["insee_com"] in DEMO_CODES
        }
    for commune in DEMO["communes"]:
        lat, lng = real[commune["insee"]]
        assert distance_km(lat, lng, commune["latitude"], commune["longitude"]) < 3, commune["name"]


def distance_km(lat1, lng1, lat2, lng2) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, (lat1, lng1, lat2, lng2))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * 6371 * math.asin(math.sqrt(a))
