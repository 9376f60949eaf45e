"""The médecin traitant search in a browser (issue 5's "Done when"): a coordinator launches
a search from a resident's saisine; two GPs receive the anonymous e-mail; the first accepts
from the link (a confirmation page, then the button); the second's link answers "already
placed"; the coordinator records the person's choice; the resident's status page shows
that a médecin traitant was found; the figures page counts it."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from e2e.test_foundation_journeys import log_in
from parcours.matching.messages import age_band
from parcours.matching.models import MTSearch, Solicitation
from parcours.matching.services import person_age
from parcours.matching.tests.matching_factories import person_without_mt, pool_gp
from parcours.saisines.models import Saisine
from parcours.saisines.selectors import saisine_status_token
from parcours.saisines.tests.saisine_factories import SaisineFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"https?://[^/\s]+(/medecin-traitant/demande/[^/\s]+/)")


@pytest.fixture
def gps(org_a):
    return {
        "dr.aubert@example.org": pool_gp(
            org_a,
            latitude=45.700,
            longitude=4.889,
            email="dr.aubert@example.org",
            last_name="Aubert",
            first_name="Anne",
            languages=["fr", "ar"],
        ),
        "dr.bonnet@example.org": pool_gp(
            org_a,
            latitude=45.715,
            longitude=4.905,
            email="dr.bonnet@example.org",
            last_name="Bonnet",
            first_name="Bruno",
        ),
    }


@pytest.fixture
def saisine(org_a):
    """A resident's request, triaged: the person is identified and consented online."""
    person = person_without_mt(
        org_a,
        birth_name="Haddad",
        first_names="Amina",
        birth_date=datetime.date(1961, 9, 23),
        sex="F",
        phone="06 11 22 33 44",
        address="12 rue Gambetta",
    )
    return SaisineFactory(
        organisation=org_a,
        origin="resident",
        requester_name="Amina HADDAD",
        requester_email="amina@example.org",
        requests=["medecin_traitant"],
        person=person,
        status="triaged",
        complexity_level=0,
        complexity={},
    )


@pytest.fixture
def other_page(browser, live_server):
    """Pages in other browser contexts (the GPs, the resident), failing on console errors."""
    contexts, errors = [], []

    def open_page():
        context = browser.new_context(base_url=live_server.url, locale="fr-FR")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"browser console errors: {errors}"


def accept_link(message) -> str:
    accept, _decline = LINK.findall(message.body)
    return accept


def test_a_coordinator_finds_a_gp_for_a_resident_from_her_saisine(
    page, other_page, org_a, claire, gps, saisine
):
    # The coordinator decides, from the saisine's triage, to search a médecin traitant.
    log_in(page, claire, second_factor=True)
    page.goto(reverse("saisines:saisine-detail", args=[saisine.pk]))
    page.get_by_role("link", name="Analyse et décision").click()
    page.get_by_role("button", name="Décider la recherche d'un médecin traitant").click()
    expect(
        page.get_by_role("heading", name="Ouvrir une recherche de médecin traitant")
    ).to_be_visible()
    expect(page.get_by_text("Indiquez les préférences de la personne")).to_be_visible()

    # Her preferences: a doctor who speaks Arabic, within 10 km.
    page.get_by_label("Arabe").check()
    page.get_by_label(re.compile("^Distance maximale du domicile")).fill("10")
    page.get_by_label(re.compile("^Suivi nécessaire")).select_option(label="Suivi courant")
    page.get_by_role("button", name="Ouvrir la recherche").click()
    expect(page.get_by_text("Recherche ouverte : sollicitez les premiers médecins")).to_be_visible()
    expect(page.locator("#search-status")).to_have_text("Recherche en cours")

    # The ranking explains each score; the Arabic-speaking GP comes first.
    ranking = page.locator("#ranking tbody tr")
    expect(ranking).to_have_count(2)
    expect(ranking.first).to_contain_text("Anne Aubert")
    ranking.first.get_by_text("Voir le détail").click()
    expect(ranking.first.locator('[data-criterion="languages"]')).to_contain_text("Parle ar")
    expect(ranking.first.locator('[data-criterion="distance"]')).to_be_visible()

    # One wave: both GPs get the anonymous e-mail.
    page.get_by_role("button", name="Solliciter les 2 premiers").click()
    expect(page.get_by_text("2 médecins sollicités par e-mail (vague 1).")).to_be_visible()
    asked = {m.to[0]: m for m in mail.outbox if m.to[0] in gps}
    assert set(asked) == set(gps)
    for message in asked.values():
        for secret in ("Haddad", "HADDAD", "Amina", "23/09/1961", "Gambetta", "06 11 22 33 44"):
            assert secret not in message.subject + message.body
        assert age_band(person_age(saisine.person)) in message.body
        assert "Vénissieux" in message.body

    # The first GP accepts from the link: a page that says what will happen, then the button.
    first = other_page()
    first.goto(accept_link(asked["dr.aubert@example.org"]))
    expect(first.get_by_text("Vous avez choisi : accepter ce patient.")).to_be_visible()
    with scopes_disabled():
        assert MTSearch.objects.get().status == MTSearch.Status.OPEN  # GET changed nothing
    first.get_by_role("button", name="Je confirme : j'accepte ce patient").click()
    expect(first.get_by_text("Merci : ce patient vous est confié.")).to_be_visible()

    # The second GP's link now answers that the patient is placed (and an e-mail said so).
    second = other_page()
    second.goto(accept_link(asked["dr.bonnet@example.org"]))
    expect(second.get_by_text("Ce patient a déjà trouvé un médecin traitant")).to_be_visible()
    expect(second.get_by_role("button", name=re.compile("Je confirme"))).to_have_count(0)
    to_second = [m for m in mail.outbox if m.to == ["dr.bonnet@example.org"]]
    assert len(to_second) == 2  # the request, then "already placed, thank you"
    with scopes_disabled():
        statuses = dict(Solicitation.objects.values_list("email", "status"))
    assert statuses == {"dr.aubert@example.org": "accepted", "dr.bonnet@example.org": "withdrawn"}

    # The coordinator proposes the GP to the person, who accepts.
    page.reload()
    expect(page.locator("#accepted-professional")).to_contain_text("Anne Aubert")
    page.get_by_label("Accepte ce médecin").check()
    page.get_by_role("button", name="Enregistrer le choix de la personne").click()
    expect(
        page.get_by_text("La personne choisit Anne Aubert : médecin traitant trouvé.")
    ).to_be_visible()
    expect(page.locator("#search-status")).to_have_text("Médecin choisi par la personne")

    # The resident's status page says an MT was found (without the doctor's name).
    with scopes_disabled():
        status_link = reverse("saisines:status", args=[saisine_status_token(Saisine.objects.get())])
    resident = other_page()
    resident.goto(status_link)
    expect(resident.locator("[data-mt-found]")).to_contain_text("Un médecin traitant a été trouvé")
    expect(resident.get_by_text("Aubert")).to_have_count(0)

    # The figures count it.
    page.get_by_role("navigation").get_by_role("link", name="Médecin traitant").click()
    expect(page.get_by_role("heading", name="Recherches de médecin traitant")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Chiffres", exact=True).click()
    expect(page.locator('[data-figure="opened"] td')).to_have_text("1")
    expect(page.locator('[data-figure="found"] td')).to_have_text("1")
    expect(page.locator('[data-figure="found_without_ipa"] td')).to_have_text("1")
    expect(page.locator('[data-figure="gps_solicited"] td')).to_have_text("2")
    expect(page.locator('[data-figure="gps_accepted"] td')).to_have_text("1")
