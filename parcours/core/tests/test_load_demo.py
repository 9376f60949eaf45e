import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from parcours.accounts.models import Membership, Organisation, Role, User
from parcours.audit.models import AuditEvent
from parcours.core.demo import DEMO_ACCOUNTS, demo_totp_codes
from parcours.territory.models import Commune, PriorityNeighbourhood, Territory

pytestmark = pytest.mark.django_db


MODELS = (Organisation, User, Membership, Territory, PriorityNeighbourhood, Commune, AuditEvent)


def counts():
    with scopes_disabled():
        return {model.__name__: model.objects.count() for model in MODELS}


def test_it_builds_the_venissieux_demo_with_every_role():
    call_command("load_demo")
    with scopes_disabled():
        territory = Territory.objects.get(organisation__slug="cpts-venissieux")
        assert territory.communes.filter(insee="69259", latitude__isnull=False).exists()
        roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    assert {email for email, _, code in demo_totp_codes() if len(code) == 6} >= {
        a.email for a in DEMO_ACCOUNTS if a.role in ("coordinator", "manager", "administrator")
    }


def test_running_it_twice_changes_nothing():
    call_command("load_demo")
    before = counts()
    call_command("load_demo")
    assert counts() == before


def test_it_refuses_outside_demo_mode(settings):
    settings.DEMO = False
    with pytest.raises(Exception, match="PARCOURS_DEMO"):
        call_command("load_demo")


def test_demo_people_are_synthetic():
    call_command("load_demo")
    emails = User.objects.values_list("email", flat=True)
    assert all(email.endswith("@demo.parcours.localhost") for email in emails)
