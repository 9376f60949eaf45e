"""The guide social on the web: searchable like the directory, linked to the services."""

import pytest
from django_scopes import scopes_disabled

from parcours.directory.guide import guide_html, parse_page
from parcours.directory.models import Service
from parcours.directory.selectors import guide_search
from parcours.territory.services import territory_load_demo

from .directory_factories import ServiceFactory
from .test_service_edit import form_data

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("mutuelle", "c2s"),  # a keyword
        ("Complémentaire santé solidaire", "c2s"),  # accents and case ignored
        ("domicil", "domiciliation"),  # a prefix
        ("domicilation", "domiciliation"),  # one typo
        ("aide médicale", "ame"),
        ("MDPH", "mdph"),
        ("revenu de solidarite active", "rsa"),
        ("permanence soins", "pass"),
        ("affection longue", "ald"),
    ],
)
def test_a_search_finds_the_page_first(query, first):
    assert [page.slug for page in guide_search(query)][0] == first


def test_every_word_must_match_and_nonsense_finds_nothing():
    assert guide_search("zzzzqq") == []
    assert guide_search("mutuelle zzzzqq") == []
    assert guide_search("") == []


def test_the_list_page_searches(client):
    response = client.get("/annuaire/guide/", {"q": "mutuelle"})
    assert response.status_code == 200
    assert [page.slug for page in response.context["pages"]] == ["c2s"]
    assert "Complémentaire santé solidaire" in response.content.decode()


def test_the_list_page_answers_a_query_nothing_matches_in_french(client):
    response = client.get("/annuaire/guide/", {"q": "<script>alert(1)</script>" * 40})
    assert response.status_code == 200
    assert "Aucune fiche ne correspond" in response.content.decode()
    assert "<script>alert" not in response.content.decode()


def test_a_page_renders_its_sections_and_sources(client):
    response = client.get("/annuaire/guide/rsa/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h2>Pour qui</h2>" in html and "<h2>Comment faire</h2>" in html
    assert "service-public.gouv.fr" in html


def test_an_unknown_page_is_404(client):
    assert client.get("/annuaire/guide/inconnue/").status_code == 404


def test_raw_html_in_a_page_is_shown_as_text_not_run():
    page = parse_page(
        "---\ntitle: T\nslug: t\nsummary: S\nkeywords: [k]\nhandled_by: [ccas]\n"
        "circle: rights\nsources: [https://www.service-public.gouv.fr/]\nupdated: 2026-11-24\n"
        "---\n## Pour qui\n\n<script>alert(1)</script> et <b>gras</b> **vrai gras**\n"
    )
    html = guide_html(page)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<strong>vrai gras</strong>" in html


@pytest.fixture
def territory(org_a):
    with scopes_disabled():
        return territory_load_demo(organisation=org_a)


def test_a_coordinator_links_a_service_to_guide_pages_and_the_page_lists_it(
    client, claire, territory
):
    client.force_login(claire)
    data = form_data(procedures=["rsa", "domiciliation"])
    assert client.post("/annuaire/services/nouveau/", data).status_code == 302
    with scopes_disabled():
        assert sorted(Service.objects.get().procedures) == ["domiciliation", "rsa"]
    page = client.get("/annuaire/guide/rsa/").content.decode()
    assert "CCAS de Vénissieux" in page
    assert "CCAS de Vénissieux" not in client.get("/annuaire/guide/ame/").content.decode()


def test_an_unknown_procedure_is_refused_in_french(client, claire, territory):
    client.force_login(claire)
    response = client.post("/annuaire/services/nouveau/", form_data(procedures=["inconnue"]))
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()


def test_visitors_and_other_organisations_do_not_see_the_services(client, claire, bruno, org_a):
    ServiceFactory(organisation=org_a, name="Épicerie solidaire A", procedures=["rsa"])
    assert "Épicerie solidaire A" not in client.get("/annuaire/guide/rsa/").content.decode()
    client.force_login(bruno)  # a coordinator of organisation B
    assert "Épicerie solidaire A" not in client.get("/annuaire/guide/rsa/").content.decode()
    client.force_login(claire)
    assert "Épicerie solidaire A" in client.get("/annuaire/guide/rsa/").content.decode()
