"""The shipped official list of communes loads whole, arrondissements included."""

import time

import pytest

from parcours.territory.models import Commune
from parcours.territory.services import OFFICIAL_COMMUNES, communes_import


def test_it_ships_a_small_compressed_official_list():
    assert OFFICIAL_COMMUNES.exists()
    assert OFFICIAL_COMMUNES.stat().st_size < 2_000_000


@pytest.mark.django_db
def test_it_imports_every_current_commune_and_the_municipal_arrondissements():
    started = time.monotonic()
    report = communes_import()
    elapsed = time.monotonic() - started

    assert report.ok, report.summary()
    assert Commune.objects.filter(kind=Commune.Kind.COMMUNE).count() > 34_000
    assert Commune.objects.filter(kind=Commune.Kind.ARRONDISSEMENT).count() == 45
    assert report.created == Commune.objects.count()
    assert elapsed < 30, f"import took {elapsed:.1f} s"


def test_it_knows_venissieux_with_its_postal_code(official_communes, db):
    venissieux = Commune.objects.get(insee="69259")
    assert venissieux.name == "Vénissieux"
    assert venissieux.kind == Commune.Kind.COMMUNE
    assert venissieux.postal_codes == ["69200"]
    assert (venissieux.departement, venissieux.region) == ("69", "84")
    assert venissieux.population > 60_000


def test_it_links_arrondissements_to_their_city(official_communes, db):
    counts = {
        city: Commune.objects.filter(parent_id=city, kind=Commune.Kind.ARRONDISSEMENT).count()
        for city in ("75056", "69123", "13055")
    }
    assert counts == {"75056": 20, "69123": 9, "13055": 16}
    assert Commune.objects.get(insee="69388").name == "Lyon 8e Arrondissement"


def test_it_keeps_former_communes_whose_code_is_their_own(official_communes, db):
    # Cordieux (01120) was associated with Montluel (01262) and keeps its own code.
    cordieux = Commune.objects.get(insee="01120")
    assert cordieux.kind == Commune.Kind.ASSOCIATED
    assert cordieux.parent_id == "01262"
    # Arbignieu shares 01015 with Arboys en Bugey, the current commune: the latter wins.
    assert Commune.objects.get(insee="01015").kind == Commune.Kind.COMMUNE


def test_it_finds_communes_by_postal_code(official_communes, db):
    found = set(
        Commune.objects.filter(postal_codes__icontains='"69200"').values_list("insee", flat=True)
    )
    assert "69259" in found
    assert "69029" not in found
