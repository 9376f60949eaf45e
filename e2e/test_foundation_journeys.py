"""The foundation's journeys: log in with a second factor, refusals, invitation, logout."""

import re

import pytest
from django.core import mail
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from parcours.accounts.tests.factories import TEST_PASSWORD
from parcours.accounts.tests.test_login import totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, user, *, second_factor: bool):
    page.goto("/comptes/login/")
    page.get_by_label(re.compile("Courriel|Adresse e-mail")).fill(user.email)
    page.get_by_label(re.compile("^Mot de passe")).fill(TEST_PASSWORD)
    page.get_by_role("button", name=re.compile("Se connecter|Connexion")).click()
    if second_factor:
        page.get_by_label(re.compile("Code")).fill(totp_now(user.totp_secret))
        page.get_by_role(
            "button", name=re.compile("Valider|Se connecter|Connexion|S'authentifier")
        ).click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


@pytest.fixture
def territory_a(org_a):
    from parcours.territory.services import territory_load_demo

    with scopes_disabled():
        return territory_load_demo(organisation=org_a)


def test_coordinator_logs_in_with_totp_and_sees_the_territory_map(page, claire, territory_a):
    with scopes_disabled():
        communes = territory_a.communes.count()
    log_in(page, claire, second_factor=True)
    page.goto("/")
    map_box = page.locator("#territory-map")
    expect(map_box).to_have_attribute("data-loaded", "true")
    expect(map_box).to_have_attribute("data-marker-count", str(communes))
    expect(page.locator("#territory-map .leaflet-interactive")).to_have_count(communes)
    expect(page.get_by_text("Vénissieux").first).to_be_visible()


def test_manager_is_refused_the_user_administration(page, manon):
    log_in(page, manon, second_factor=True)
    expect(page.get_by_role("link", name="Utilisateurs")).to_have_count(0)
    response = page.goto("/administration/utilisateurs/")
    assert response.status == 403
    expect(page.get_by_role("heading", name=re.compile("Accès refusé"))).to_be_visible()


def test_administrator_invites_a_user_who_sets_a_password_from_the_email(page, alain, browser):
    log_in(page, alain, second_factor=True)
    page.get_by_role("navigation").get_by_role("button", name="Administration").click()
    page.get_by_role("navigation").get_by_role("link", name="Utilisateurs").click()
    page.get_by_role("link", name="Inviter un utilisateur").click()
    page.get_by_label("Adresse e-mail").fill("sophie.invitee@example.org")
    page.get_by_label("Prénom").fill("Sophie")
    page.get_by_label("Nom", exact=True).fill("Invitée")
    page.get_by_label("Rôle").select_option("professional")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_text("L'invitation a été envoyée.")).to_be_visible()
    expect(page.get_by_role("cell", name="sophie.invitee@example.org", exact=True)).to_be_visible()

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/invitation/\S+/", mail.outbox[0].body).group(0)
    invited = browser.new_context(locale="fr-FR").new_page()
    invited.goto(link)
    invited.get_by_label(re.compile("^Mot de passe")).first.fill("Sophie-choisit-2026!")
    invited.get_by_label(re.compile("^Confirmation du mot de passe")).fill("Sophie-choisit-2026!")
    invited.get_by_role("button", name="Enregistrer mon mot de passe").click()
    expect(invited.get_by_text("Votre mot de passe est enregistré")).to_be_visible()
    invited.get_by_label(re.compile("Courriel|Adresse e-mail")).fill("sophie.invitee@example.org")
    invited.get_by_label(re.compile("^Mot de passe")).fill("Sophie-choisit-2026!")
    invited.get_by_role("button", name=re.compile("Se connecter|Connexion")).click()
    expect(invited.get_by_role("button", name="Se déconnecter")).to_be_visible()
    invited.context.close()


def test_user_logs_out(page, claire, territory_a):
    log_in(page, claire, second_factor=True)
    page.get_by_role("button", name="Se déconnecter").click()
    if page.get_by_role("button", name="Se déconnecter").count():  # allauth's confirmation page
        page.locator("main").get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile("/comptes/login/"))
    page.goto("/territoire/")
    expect(page).to_have_url(re.compile("/comptes/login/"))
