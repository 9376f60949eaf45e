"""The GP availability survey in a browser: a coordinator launches it, a GP answers from the
e-mail link (the link's page only confirms; the button records)."""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from e2e.test_foundation_journeys import log_in
from parcours.directory.models import Availability, SurveyRequest
from parcours.directory.survey import survey_launch
from parcours.directory.tests.directory_factories import (
    CommuneFactory,
    PracticeSituationFactory,
    ProfessionalFactory,
)
from parcours.territory.models import Territory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def gp(org_a):
    """A GP of organisation A's territory, with an e-mail on the practice situation."""
    with scopes_disabled():
        territory = Territory.objects.create(organisation=org_a, name="CPTS de Vénissieux")
        territory.communes.add(CommuneFactory())
    doctor = ProfessionalFactory(first_name="Anne", last_name="Dupont", civility="Docteur")
    PracticeSituationFactory(professional=doctor, email="cabinet.dupont@example.org")
    return doctor


def link_from_the_email(label: str) -> str:
    [message] = mail.outbox
    return re.search(rf"^- {re.escape(label)} :\n  (\S+)$", message.body, re.MULTILINE).group(1)


def test_a_coordinator_launches_a_survey(page, claire, gp):
    log_in(page, claire, second_factor=True)
    page.get_by_role("navigation").get_by_role("link", name="Disponibilités").click()
    page.get_by_role("link", name="Lancer une enquête").click()
    expect(page.get_by_role("cell", name=re.compile("Anne Dupont"))).to_be_visible()
    page.get_by_label("Nombre maximum de relances").fill("1")
    page.get_by_role("button", name="Envoyer le courriel à 1 médecin").click()

    expect(page.get_by_text("L'enquête est lancée : 1 médecin est interrogé.")).to_be_visible()
    expect(page.locator('[data-count="asked"]')).to_have_text("1")
    expect(page.locator('[data-count="not_answered"]')).to_have_text("1")
    assert [m.to for m in mail.outbox] == [["cabinet.dupont@example.org"]]


def test_a_gp_answers_the_survey_from_the_email_link(page, org_a, claire, gp):
    with scopes_disabled():
        survey_launch(
            organisation=org_a,
            by=claire,
            closes_on=timezone.localdate() + datetime.timedelta(days=21),
            validity_months=6,
        )
    link = link_from_the_email("Dans les 6 mois")

    page.goto(link)  # as the GP, without an account
    expect(page.get_by_role("heading", name="Acceptez-vous de nouveaux patients ?")).to_be_visible()
    expect(page.get_by_text("Vous avez choisi : Dans les 6 mois.")).to_be_visible()
    expect(page.get_by_label("Dans les 6 mois")).to_be_checked()
    with scopes_disabled():  # opening the page changed nothing
        assert not Availability.objects.exists()
        assert SurveyRequest.objects.get().answered_at is None

    page.get_by_label("Combien de nouveaux patients pouvez-vous accueillir ?").fill("12")
    page.get_by_label("Adultes").check()
    page.get_by_label("Je fais des visites à domicile").check()
    page.get_by_role("button", name="Confirmer ma réponse").click()

    expect(page.get_by_role("heading", name="Merci pour votre réponse")).to_be_visible()
    expect(page.get_by_text("Votre réponse est enregistrée : « Dans les 6 mois »")).to_be_visible()
    with scopes_disabled():
        availability = Availability.objects.get(organisation=org_a, professional=gp)
        asked = SurveyRequest.objects.get()
    today = timezone.localdate()
    assert availability.accepting == Availability.Accepting.WITHIN_SIX_MONTHS
    assert (availability.capacity, availability.age_groups) == (12, ["adults"])
    assert availability.home_visits is True
    assert availability.declared_on == today and availability.expires_on > today
    assert (asked.answer, asked.capacity) == ("within_6_months", 12)
