"""The map's GeoJSON holds the organisation's communes, and only them."""

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from parcours.territory import selectors
from parcours.territory.models import Commune, Territory
from parcours.territory.services import territory_load_demo

pytestmark = pytest.mark.django_db
URL = reverse("territory:communes-geojson")


@pytest.fixture
def territories(org_a, org_b):
    territory_load_demo(organisation=org_a)
    with scopes_disabled():
        strasbourg = Commune.objects.create(
            insee="67482",
            name="Strasbourg",
            departement="67",
            region="44",
            postal_codes=["67000"],
            population=291709,
            latitude=48.5734,
            longitude=7.7521,
        )
        Territory.objects.create(organisation=org_b, name="Strasbourg Nord").communes.add(
            strasbourg
        )


def test_it_lists_the_organisation_communes_as_points(client, claire, territories):
    client.force_login(claire)

    response = client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 9
    venissieux = next(f for f in collection["features"] if f["properties"]["insee"] == "69259")
    assert venissieux["geometry"]["type"] == "Point"
    longitude, latitude = venissieux["geometry"]["coordinates"]
    assert (round(latitude), round(longitude)) == (46, 5)
    assert venissieux["properties"] == {
        "insee": "69259",
        "name": "Vénissieux",
        "population": 65502,
        "postal_codes": ["69200"],
    }


def test_it_never_shows_another_organisation_communes(client, claire, bruno, territories):
    client.force_login(claire)
    assert "67482" not in client.get(URL).content.decode()

    client.force_login(bruno)
    features = client.get(URL).json()["features"]
    assert [f["properties"]["insee"] for f in features] == ["67482"]


def test_it_answers_an_empty_collection_without_territory(client, claire):
    client.force_login(claire)

    assert client.get(URL).json() == {"type": "FeatureCollection", "features": []}


def test_a_commune_without_centre_has_no_geometry(org_a):
    territory_load_demo(organisation=org_a)
    Commune.objects.filter(insee="69283").update(latitude=None, longitude=None)

    with scope(organisation=org_a):
        collection = selectors.territory_communes_geojson(organisation=org_a)

    mions = next(f for f in collection["features"] if f["properties"]["insee"] == "69283")
    assert mions["geometry"] is None


def test_the_summary_counts_communes_population_and_neighbourhoods(org_a, org_b):
    territory_load_demo(organisation=org_a)

    with scope(organisation=org_a):
        summary = selectors.territory_summary(organisation=org_a)
    with scope(organisation=org_b):
        assert selectors.territory_summary(organisation=org_b) == {}

    assert summary["communes"] == 9
    assert summary["neighbourhoods"] == 2
    assert summary["population"] == sum(Commune.objects.values_list("population", flat=True))
