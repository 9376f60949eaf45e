import pytest
from django_scopes import scopes_disabled

from parcours.accounts.models import Membership
from parcours.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def membership_of(user):
    with scopes_disabled():
        return Membership.objects.get(user=user)


def test_it_changes_a_role_and_audits_it(client, alain, claire):
    client.force_login(alain)
    membership = membership_of(claire)
    response = client.post(
        f"/administration/utilisateurs/{membership.pk}/", {"role": "manager", "is_active": "on"}
    )
    assert response.status_code == 302
    assert membership_of(claire).role == "manager"
    event = AuditEvent.objects.get(action="update", object_type="accounts.membership")
    assert event.details == {"role": ["coordinator", "manager"]}
    assert event.actor == alain


def test_it_deactivates_a_member_who_then_has_no_access(client, alain, claire):
    client.force_login(alain)
    client.post(
        f"/administration/utilisateurs/{membership_of(claire).pk}/", {"role": "coordinator"}
    )
    client.force_login(claire)
    assert client.get("/territoire/").status_code == 403


def test_it_refuses_that_an_administrator_demotes_themselves(client, alain):
    client.force_login(alain)
    response = client.post(
        f"/administration/utilisateurs/{membership_of(alain).pk}/",
        {"role": "coordinator", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "propres droits" in response.content.decode()
    assert membership_of(alain).role == "administrator"


def test_it_answers_404_for_a_member_of_another_organisation(client, alain, bruno):
    client.force_login(alain)
    assert client.get(f"/administration/utilisateurs/{membership_of(bruno).pk}/").status_code == 404
