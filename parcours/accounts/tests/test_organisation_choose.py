import pytest
from django_scopes import scopes_disabled

from parcours.accounts.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def claire_in_b(claire, org_b):
    with scopes_disabled():
        Membership.objects.create(organisation=org_b, user=claire, role="manager")
    return claire


def test_it_lets_a_member_of_two_organisations_switch(client, claire_in_b, org_a, org_b):
    client.force_login(claire_in_b)
    home = client.get("/")
    assert home.context["organisation"] == org_a
    assert 'id="choix-organisation"' in home.content.decode()
    client.post("/organisation/choisir/", {"organisation": org_b.pk})
    home = client.get("/")
    assert home.context["organisation"] == org_b
    assert home.context["current_role"] == "manager"


def test_it_ignores_an_organisation_the_user_does_not_belong_to(client, claire, org_b):
    client.force_login(claire)
    client.post("/organisation/choisir/", {"organisation": org_b.pk})
    assert client.get("/").context["organisation"].slug == "cpts-venissieux"


def test_a_single_organisation_shows_no_switch(client, claire):
    client.force_login(claire)
    assert 'id="choix-organisation"' not in client.get("/").content.decode()
