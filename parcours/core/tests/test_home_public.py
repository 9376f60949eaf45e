"""A resident who lands on the site finds the request form of the territory's team."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_public_home_links_each_organisation_request_forms(client, org_a, org_b):
    html = client.get("/").content.decode()
    for organisation in (org_a, org_b):
        assert f"/saisines/{organisation.slug}/demande/" in html
        assert f"/saisines/{organisation.slug}/professionnel/" in html
    assert "/annuaire/" in html
