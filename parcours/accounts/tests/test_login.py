import logging

import pytest
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import override_settings

from parcours.accounts.tests.factories import TEST_PASSWORD
from parcours.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def totp_now(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def test_it_asks_staff_for_the_second_factor_and_audits_the_login(client, claire):
    response = client.post("/comptes/login/", {"login": claire.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/comptes/2fa/authenticate/"
    assert client.get("/territoire/").status_code == 302  # not logged in yet
    response = client.post("/comptes/2fa/authenticate/", {"code": totp_now(claire.totp_secret)})
    assert response.status_code == 302
    assert client.get("/territoire/").status_code == 200
    login = AuditEvent.objects.get(action="login", actor=claire)
    assert login.organisation.slug == "cpts-venissieux"  # so the DPO of her structure sees it


def test_it_refuses_a_wrong_second_factor_code(client, claire):
    client.post("/comptes/login/", {"login": claire.email, "password": TEST_PASSWORD})
    response = client.post("/comptes/2fa/authenticate/", {"code": "000000"})
    assert response.status_code == 200
    assert client.get("/territoire/").status_code == 302


def test_it_sends_staff_without_second_factor_to_set_it_up(client, org_a):
    from parcours.accounts.models import Membership
    from parcours.accounts.tests.factories import UserFactory

    user = UserFactory()
    Membership.objects.create(organisation=org_a, user=user, role="manager")
    response = client.post("/comptes/login/", {"login": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/comptes/2fa/totp/activate/"
    assert client.get("/comptes/2fa/totp/activate/").status_code == 200


def test_it_logs_professionals_in_with_a_password_alone(client, dr_martin):
    response = client.post("/comptes/login/", {"login": dr_martin.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").context["current_role"] == "professional"


def test_it_audits_a_failed_login_without_the_attempted_address(client, claire):
    client.post("/comptes/login/", {"login": claire.email, "password": "mauvais"})
    client.post("/comptes/login/", {"login": "inconnu@example.org", "password": "mauvais"})
    known, unknown = AuditEvent.objects.filter(action="login_failed").order_by("id")
    assert known.actor == claire and known.details == {"known_account": True}
    assert known.organisation.slug == "cpts-venissieux"
    assert unknown.actor is None and unknown.details == {"known_account": False}
    assert "inconnu" not in str(unknown.details) + unknown.object_id


@override_settings(AXES_FAILURE_LIMIT=3)
def test_it_locks_an_account_out_after_repeated_failures(client, dr_martin):
    for _ in range(3):
        client.post("/comptes/login/", {"login": dr_martin.email, "password": "mauvais"})
    response = client.post("/comptes/login/", {"login": dr_martin.email, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()


def test_it_writes_no_address_in_logs_on_failed_login(client, claire, caplog):
    with caplog.at_level(logging.DEBUG):
        client.post("/comptes/login/", {"login": claire.email, "password": "mauvais"})
    assert claire.email not in caplog.text
