"""The territory page: staff roles only, a map with its accessible table, no inline code."""

import re

import pytest
from django.urls import reverse

from parcours.territory.services import territory_load_demo

pytestmark = pytest.mark.django_db
URLS = [reverse("territory:detail"), reverse("territory:communes-geojson")]


@pytest.fixture
def territory_a(org_a):
    return territory_load_demo(organisation=org_a)


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("who", ["claire", "manon", "alain"])
def test_it_lets_coordinators_managers_and_administrators_in(
    client, request, territory_a, who, url
):
    client.force_login(request.getfixturevalue(who))

    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("who", ["dr_martin", "paul"])
def test_it_refuses_professionals_and_partners(client, request, territory_a, who, url):
    client.force_login(request.getfixturevalue(who))

    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", URLS)
def test_it_sends_visitors_to_the_login_page(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")


def test_it_shows_the_map_and_the_table_of_communes(client, claire, territory_a, settings):
    settings.MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    client.force_login(claire)

    page = client.get(reverse("territory:detail")).content.decode()

    assert 'id="territory-map"' in page
    assert f'data-geojson-url="{reverse("territory:communes-geojson")}"' in page
    assert 'data-tile-url="https://tiles.example.org/{z}/{x}/{y}.png"' in page
    assert 'role="region"' in page
    assert "js/territory-map.js" in page
    assert "territory/territory.css" in page
    assert '<th scope="row">Vénissieux</th>' in page
    assert "69259" in page and "69200" in page
    assert "Minguettes - Clochettes (QN06901M)" in page


def test_it_works_without_tiles(client, claire, territory_a, settings):
    settings.MAP_TILE_URL = ""
    client.force_login(claire)

    page = client.get(reverse("territory:detail")).content.decode()

    assert 'data-tile-url=""' in page


def test_it_has_no_inline_script_or_style(client, claire, territory_a):
    client.force_login(claire)

    page = client.get(reverse("territory:detail")).content.decode()

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert " style=" not in page and "<style" not in page


def test_it_explains_when_there_is_no_territory(client, claire):
    client.force_login(claire)

    response = client.get(reverse("territory:detail"))

    assert response.status_code == 200
    assert (
        "Aucun territoire n’est encore défini pour votre organisation." in response.content.decode()
    )
    assert 'id="territory-map"' not in response.content.decode()
