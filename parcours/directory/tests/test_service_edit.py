import pytest
from django_scopes import scopes_disabled

from parcours.audit.models import AuditEvent
from parcours.directory.models import Service
from parcours.territory.services import territory_load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def territory(org_a):
    with scopes_disabled():
        return territory_load_demo(organisation=org_a)


def form_data(**overrides):
    data = {
        "name": "CCAS de Vénissieux",
        "circle": "rights",
        "category": "CCAS",
        "languages": "français, arabe",
        "public_served": "",
        "description": "",
        "eligibility": "",
        "fees": "Gratuit",
        "address": "5 avenue Marcel Houël",
        "postal_code": "69200",
        "commune": "69259",
        "phone": "04 72 21 44 44",
        "phone_public": "on",
        "email": "",
        "website": "",
        "accessibility": "",
        "opening_hours": "lundi au vendredi 8h30-12h, 13h30-17h",
    }
    data.update(overrides)
    return data


def saved():
    with scopes_disabled():
        return Service.objects.get()


def test_a_coordinator_adds_a_service_located_at_its_commune(client, claire, territory):
    client.force_login(claire)
    response = client.post("/annuaire/services/nouveau/", form_data())
    assert response.status_code == 302
    service = saved()
    assert service.languages == ["français", "arabe"]
    assert len(service.opening_hours) == 10 and service.opening_hours[0]["opens"] == "08:30"
    assert (service.source, service.checked_by, service.location_precision) == (
        "manual",
        claire,
        "commune",
    )
    assert service.latitude is not None
    assert AuditEvent.objects.filter(action="create", object_type="directory.service").exists()


def test_an_edit_records_who_checked_it(client, claire, hugo, territory):
    client.force_login(claire)
    client.post("/annuaire/services/nouveau/", form_data())
    client.force_login(hugo)
    response = client.post(
        f"/annuaire/services/{saved().pk}/", form_data(fees="Sur rendez-vous", version=1)
    )
    assert response.status_code == 302
    service = saved()
    assert (service.fees, service.checked_by, service.version) == ("Sur rendez-vous", hugo, 2)


def test_two_edits_of_the_same_version_never_overwrite_each_other(client, claire, hugo, territory):
    client.force_login(claire)
    client.post("/annuaire/services/nouveau/", form_data())
    pk = saved().pk
    client.post(f"/annuaire/services/{pk}/", form_data(fees="Modifié par Claire", version=1))
    client.force_login(hugo)
    response = client.post(
        f"/annuaire/services/{pk}/", form_data(fees="Modifié par Hugo", version=1)
    )
    assert response.status_code == 200
    assert "modifiée par quelqu&#x27;un d&#x27;autre" in response.content.decode()
    assert saved().fees == "Modifié par Claire"


def test_bad_input_is_explained_in_french_and_nothing_is_lost(client, claire, territory):
    client.force_login(claire)
    client.post("/annuaire/services/nouveau/", form_data())
    pk = saved().pk
    response = client.post(
        f"/annuaire/services/{pk}/", form_data(opening_hours="lundy 9h-12h", version=1)
    )
    assert response.status_code == 200
    assert "jour inconnu" in response.content.decode()
    assert saved().fees == "Gratuit" and saved().version == 1


def test_only_communes_of_the_territory_can_be_chosen(client, claire, territory):
    client.force_login(claire)
    response = client.post("/annuaire/services/nouveau/", form_data(commune="75056"))
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()


def test_an_archived_service_leaves_the_list_and_can_come_back(client, claire, territory):
    client.force_login(claire)
    client.post("/annuaire/services/nouveau/", form_data())
    pk = saved().pk
    client.post(f"/annuaire/services/{pk}/archiver/", {"archived": "1"}, follow=True)
    assert "CCAS de Vénissieux" not in client.get("/annuaire/services/").content.decode()
    assert "CCAS de Vénissieux" in client.get("/annuaire/services/?archives=1").content.decode()
    client.post(f"/annuaire/services/{pk}/archiver/", {"archived": "0"})
    assert saved().is_active
