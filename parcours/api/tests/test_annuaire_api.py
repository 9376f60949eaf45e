import pytest
from django_scopes import scopes_disabled

from parcours.directory.models import PracticeSituation, Professional, Service
from parcours.directory.search import search_index_rebuild
from parcours.territory.models import Commune

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory(org_a):
    venissieux = Commune.objects.create(
        insee="69259",
        name="Vénissieux",
        departement="69",
        region="84",
        latitude=45.6978,
        longitude=4.8867,
    )
    for index, (first, last) in enumerate([("Chloé", "Martin"), ("Zoé", "Kinet")], start=1):
        person = Professional.objects.create(
            rpps=f"1000000000{index}",
            first_name=first,
            last_name=last,
            profession_code="70",
            profession="Masseur-Kinésithérapeute",
            source="rpps",
        )
        PracticeSituation.objects.create(
            professional=person,
            source_key=str(index),
            commune=venissieux,
            source="rpps",
            latitude=45.6978 + index / 1000,
            longitude=4.8867,
            address="1 rue de la Paix",
            phone="0472000000",
            phone_public=True,
            email="prive@example.org",
            email_public=False,
        )
    with scopes_disabled():
        Service.objects.create(
            organisation=org_a, name="Kiné solidaire", circle="care", source="manual"
        )
    search_index_rebuild()


def test_it_publishes_its_openapi_schema(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    assert (
        "/api/v1/annuaire/search" in schema["paths"] and "/api/v1/annuaire/map" in schema["paths"]
    )


def test_anyone_searches_with_public_contacts_only(client, directory):
    data = client.get(
        "/api/v1/annuaire/search", {"q": "kiné", "commune": "69259", "radius_km": 5}
    ).json()
    assert [item["name"] for item in data["items"]] == ["Chloé Martin", "Zoé Kinet"]
    first = data["items"][0]
    assert (first["phone"], first["email"], first["commune"]) == ("0472000000", "", "Vénissieux")
    assert first["distance_km"] == pytest.approx(0.11, abs=0.01)


def test_a_member_also_finds_the_services_of_their_organisation(client, directory, claire):
    assert client.get("/api/v1/annuaire/search", {"q": "kiné"}).json()["count"] == 2
    client.force_login(claire)
    assert client.get("/api/v1/annuaire/search", {"q": "kiné"}).json()["count"] == 3


def test_the_map_answers_points_in_the_viewport(client, directory):
    data = client.get("/api/v1/annuaire/map", {"bbox": "4.8,45.6,4.9,45.8"}).json()
    assert data["total"] == 2 and len(data["points"]) == 2 and data["clusters"] == []
    assert client.get("/api/v1/annuaire/map", {"bbox": "5,46,6,47"}).json()["total"] == 0


def test_the_map_clusters_when_there_are_too_many_points(client, directory, monkeypatch):
    monkeypatch.setattr("parcours.directory.search.MAP_MAX_POINTS", 1)
    data = client.get("/api/v1/annuaire/map", {"bbox": "4.8,45.6,4.9,45.8"}).json()
    assert data["points"] == [] and sum(c["count"] for c in data["clusters"]) == 2


@pytest.mark.parametrize("params", [{"bbox": "nimporte"}, {"bbox": "5,46,4,45"}, {"bbox": "1,2,3"}])
def test_a_bad_bbox_is_explained_not_a_500(client, db, params):
    response = client.get("/api/v1/annuaire/map", params)
    assert response.status_code == 422


def test_a_bad_radius_or_page_is_explained(client, db):
    assert client.get("/api/v1/annuaire/search", {"radius_km": -1}).status_code == 422
    assert client.get("/api/v1/annuaire/search", {"page": "abc"}).status_code == 422
    assert client.get("/api/v1/annuaire/search", {"page": 999}).status_code == 200


def test_the_accepting_filter_is_for_the_team_only(client, directory, claire, dr_martin, org_a):
    from parcours.directory.tests.directory_factories import AvailabilityFactory

    with scopes_disabled():
        kinet = Professional.objects.get(last_name="Kinet")
    AvailabilityFactory(organisation=org_a, professional=kinet, accepting="now")
    assert client.get("/api/v1/annuaire/search", {"accepting": "now"}).status_code == 403
    client.force_login(dr_martin)
    assert client.get("/api/v1/annuaire/search", {"accepting": "now"}).status_code == 403
    client.force_login(claire)
    answer = client.get("/api/v1/annuaire/search", {"accepting": "now"}).json()
    assert [item["name"] for item in answer["items"]] == ["Zoé Kinet"]
    bad = client.get("/api/v1/annuaire/search", {"accepting": "yes"})
    assert bad.status_code == 422 and "within_6_months" in bad.json()["detail"]


def test_it_filters_by_kind(client, directory, claire):
    client.force_login(claire)
    answer = client.get("/api/v1/annuaire/search", {"q": "kine", "kind": "service"}).json()
    assert [item["name"] for item in answer["items"]] == ["Kiné solidaire"]
