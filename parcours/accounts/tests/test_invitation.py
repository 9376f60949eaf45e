import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scopes_disabled

from parcours.accounts.models import Invitation, Membership, User
from parcours.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Un-mot-de-passe-solide-2026"


def invite(client, alain, email="nouvelle@example.org", role="coordinator"):
    client.force_login(alain)
    return client.post(
        "/administration/utilisateurs/inviter/",
        {"email": email, "role": role, "first_name": "Nadia", "last_name": "Roux"},
    )


def link_path(message) -> str:
    return re.search(r"http://testserver(/invitation/\S+/)", message.body).group(1)


def test_it_invites_a_user_by_email(client, alain, org_a):
    response = invite(client, alain)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nouvelle@example.org"]
    assert "nouvelle@example.org" not in mail.outbox[0].subject
    with scopes_disabled():
        membership = Membership.objects.get(user__email="nouvelle@example.org")
    assert membership.organisation == org_a and membership.role == "coordinator"
    assert not membership.user.has_usable_password()


def test_it_lets_the_invited_user_set_a_password_only_by_post(client, alain):
    invite(client, alain)
    client.logout()
    path = link_path(mail.outbox[0])
    page = client.get(path)
    assert page.status_code == 200
    assert not User.objects.get(email="nouvelle@example.org").has_usable_password()
    response = client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(email="nouvelle@example.org").check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(
        action="link_opened", object_type="accounts.invitation"
    ).exists()


def test_it_refuses_a_reused_link(client, alain):
    invite(client, alain)
    client.logout()
    path = link_path(mail.outbox[0])
    client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    again = client.post(
        path, {"password1": "Autre-mot-de-passe-99", "password2": "Autre-mot-de-passe-99"}
    )
    assert again.status_code == 410
    assert "déjà servi" in again.content.decode()
    assert User.objects.get(email="nouvelle@example.org").check_password(NEW_PASSWORD)


def test_it_refuses_an_expired_or_tampered_link(client, alain):
    invite(client, alain)
    client.logout()
    path = link_path(mail.outbox[0])
    assert client.get(path[:-3] + "xx/").status_code == 410
    with scopes_disabled():
        Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(path).status_code == 410


def test_it_shows_password_errors_in_french_and_keeps_the_link_usable(client, alain):
    invite(client, alain)
    client.logout()
    path = link_path(mail.outbox[0])
    response = client.post(path, {"password1": "court", "password2": "autre"})
    assert response.status_code == 200
    assert "ne correspondent pas" in response.content.decode()
    response = client.post(path, {"password1": "azerty", "password2": "azerty"})
    assert response.status_code == 200
    assert "trop court" in response.content.decode()
    assert client.get(path).status_code == 200


def test_it_never_lets_an_invitation_replace_an_existing_password(client, alain, bruno):
    invite(client, alain, email=bruno.email)
    client.logout()
    path = link_path(mail.outbox[0])
    response = client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    bruno.refresh_from_db()
    assert not bruno.check_password(NEW_PASSWORD)
    with scopes_disabled():
        assert Membership.objects.filter(user=bruno).count() == 2


def test_it_refuses_inviting_an_existing_member(client, alain, claire):
    response = invite(client, alain, email=claire.email)
    assert response.status_code == 200
    assert "déjà membre" in response.content.decode()
    assert mail.outbox == []


def test_it_reports_a_bad_email_in_french(client, alain):
    response = invite(client, alain, email="pas-une-adresse")
    assert response.status_code == 200
    assert "Saisissez une adresse de courriel valide" in response.content.decode()


def test_an_invited_coordinator_sets_up_the_second_factor_at_first_login(client, alain):
    from allauth.mfa.models import Authenticator

    from parcours.accounts.tests.test_login import totp_now

    invite(client, alain, email="nouvelle@example.org", role="coordinator")
    client.logout()
    path = link_path(mail.outbox[0])
    client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    client.post("/comptes/login/", {"login": "nouvelle@example.org", "password": NEW_PASSWORD})
    response = client.get("/territoire/")
    assert response["Location"] == "/comptes/2fa/totp/activate/"
    page = client.get("/comptes/2fa/totp/activate/")
    assert page.status_code == 200
    secret = page.context["form"].secret
    response = client.post("/comptes/2fa/totp/activate/", {"code": totp_now(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user__email="nouvelle@example.org", type="totp").exists()
    assert client.get("/territoire/").status_code == 200


def test_an_administrator_resends_an_expired_invitation_and_the_old_link_dies(client, alain):
    invite(client, alain)
    old_path = link_path(mail.outbox[0])
    with scopes_disabled():
        Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
        membership = Membership.objects.get(user__email="nouvelle@example.org")
    response = client.post(f"/administration/utilisateurs/{membership.pk}/renvoyer-invitation/")
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    new_path = link_path(mail.outbox[1])
    client.logout()
    assert client.get(old_path).status_code == 410
    assert client.get(new_path).status_code == 200


def test_it_refuses_to_resend_an_accepted_invitation(client, alain):
    invite(client, alain)
    path = link_path(mail.outbox[0])
    client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    with scopes_disabled():
        membership = Membership.objects.get(user__email="nouvelle@example.org")
    client.force_login(alain)
    response = client.post(
        f"/administration/utilisateurs/{membership.pk}/renvoyer-invitation/", follow=True
    )
    assert "déjà activé" in response.content.decode()
    assert len(mail.outbox) == 1
