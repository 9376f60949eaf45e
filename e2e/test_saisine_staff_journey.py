"""The single entry point in a browser, from the team's side (issue 4's "Done when"): a
resident files a request in English; a coordinator sees it in the work queue, triages it
(identifies the person, screens the complexity) and orients it to a CCAS of the directory;
the CCAS accepts from its e-mail link, without an account; the resident's status page shows
the outcome; the coordinator's queue and the saisine's timeline show the delays."""

import re

import pytest
from django.core import mail
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from e2e.test_foundation_journeys import log_in
from e2e.test_saisine_public_journey import file_a_request_in_english
from parcours.directory.search import search_index_refresh
from parcours.directory.tests.directory_factories import CommuneFactory, ServiceFactory
from parcours.people.models import Consent
from parcours.saisines.models import Orientation, Saisine
from parcours.territory.models import Territory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def territory_a(org_a):
    with scopes_disabled():
        territory = Territory.objects.create(organisation=org_a, name="CPTS de Vénissieux")
        territory.communes.add(CommuneFactory())
    return territory


@pytest.fixture
def ccas(org_a):
    service = ServiceFactory(
        organisation=org_a, name="CCAS de Vénissieux", email="ccas@example.org"
    )
    search_index_refresh(kind="service", ids=[service.pk])
    return service


@pytest.fixture
def other_page(browser, live_server):
    """Pages in other browser contexts (the resident, the CCAS), failing on console errors
    like the journey's own page."""
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


def orientation_links(message) -> dict[str, str]:
    urls = re.findall(r"https?://[^/\s]+(/saisines/orientation/[^/\s]+/)", message.body)
    assert len(urls) == 3
    return dict(zip(("accepted", "declined", "done"), urls, strict=True))


def test_a_coordinator_triages_an_english_request_to_a_ccas_which_accepts_it(
    page, other_page, org_a, claire, territory_a, ccas
):
    # The resident files in English and keeps the status link.
    resident = other_page()
    status_link = file_a_request_in_english(resident)
    with scopes_disabled():
        saisine = Saisine.objects.get()
    assert saisine.language == "en"

    # The coordinator finds it among the new saisines (htmx: no page reload).
    log_in(page, claire, second_factor=True)
    page.get_by_role("navigation").get_by_role("link", name="Saisines").click()
    expect(page.get_by_role("heading", name="Saisines : file de travail")).to_be_visible()
    page.evaluate("window.queueNotReloaded = true")
    page.get_by_role("link", name=re.compile(r"^\s*Nouvelles")).click()
    expect(page).to_have_url(re.compile(r"/saisines/\?tab=new$"))
    expect(page.locator('[data-tab="new"]')).to_have_attribute("aria-current", "page")
    assert page.evaluate("window.queueNotReloaded") is True
    row = page.locator(f'tr[data-reference="{saisine.reference}"]')
    expect(row).to_contain_text("La personne elle-même")
    expect(row).to_contain_text("Première réponse")
    expect(row).not_to_contain_text("Haddad")  # no personal data in the queue
    expect(page.locator('[data-tab="new"] [data-count]')).to_have_text("1")

    # The triage: the person, identified from what the resident wrote, then the screening.
    row.get_by_role("link", name=saisine.reference).click()
    page.get_by_role("link", name="Analyser").click()
    expect(page.get_by_label("Nom de naissance")).to_have_value("HADDAD")
    expect(page.get_by_label("Prénoms")).to_have_value("Amina")
    page.get_by_role("button", name="Créer la fiche et la lier").click()
    expect(
        page.get_by_text("La fiche de la personne est créée et liée à la saisine.")
    ).to_be_visible()
    page.get_by_role("group", name="Droits").get_by_label("Difficulté importante").check()
    page.get_by_role("group", name="Social").get_by_label("Difficulté modérée").check()
    page.get_by_role("button", name="Enregistrer le repérage").click()
    expect(page.get_by_text("Repérage enregistré : À surveiller.")).to_be_visible()
    expect(page.locator("#saisine-status")).to_have_text("Analysée")

    # The decision: orientation to the CCAS found in the directory from the page.
    page.get_by_label("Chercher dans l'annuaire").fill("CCAS")
    page.get_by_role("button", name="Chercher", exact=True).click()
    page.get_by_label(re.compile("CCAS de Vénissieux")).check()
    expect(page).not_to_have_url(re.compile(r"q=CCAS"))  # the results came by htmx
    page.get_by_label("Message au destinataire").fill(
        "Merci de recevoir Mme Haddad pour l'ouverture de ses droits."
    )
    page.get_by_role("button", name="Orienter", exact=True).click()
    expect(page.get_by_text("Orientation envoyée à CCAS de Vénissieux.")).to_be_visible()
    expect(page.locator("#orientations")).to_contain_text("Envoyée")
    with scopes_disabled():
        person = Saisine.objects.get().person
        consent = Consent.objects.get(person=person)
    assert (consent.method, consent.categories) == ("online", ["identity"])

    # The queue shows it waiting for the CCAS's answer.
    page.get_by_role("navigation").get_by_role("link", name="Saisines").click()
    page.get_by_role("link", name=re.compile(r"^\s*En attente de réponse")).click()
    expect(page.locator(f'tr[data-reference="{saisine.reference}"]')).to_contain_text(
        "Orientation en attente de réponse"
    )

    # The CCAS accepts from its e-mail, in another browser, without an account.
    [message] = [m for m in mail.outbox if m.to == ["ccas@example.org"]]
    ccas_page = other_page()
    ccas_page.goto(orientation_links(message)["accepted"])
    expect(ccas_page.get_by_text("J'accepte cette orientation")).to_be_visible()
    ccas_page.get_by_role("button", name="Confirmer ma réponse").click()
    expect(ccas_page.get_by_role("heading", name="Merci pour votre réponse")).to_be_visible()
    with scopes_disabled():
        assert Orientation.objects.get().status == "accepted"

    # The resident's status page shows the outcome (in English, still no personal data).
    resident.goto(status_link)
    expect(
        resident.get_by_text("Your request has been referred to a service that has accepted it.")
    ).to_be_visible()
    expect(resident.get_by_text("CCAS")).to_have_count(0)

    # The coordinator's queue and the saisine's timeline show the delays.
    page.get_by_role("link", name=re.compile(r"^\s*Toutes les ouvertes")).click()
    row = page.locator(f'tr[data-reference="{saisine.reference}"]')
    expect(row.locator('[data-milestone="first_response"]')).to_contain_text(
        re.compile(r"Première réponse : (moins d'une minute|\d+ min)")
    )
    expect(row.locator('[data-milestone="decision"]')).to_contain_text(
        re.compile(r"Décision : (moins d'une minute|\d+ min)")
    )
    expect(row.locator('[data-milestone="closure"]')).to_contain_text("en attente (cible 90 jours)")
    row.get_by_role("link", name=saisine.reference).click()
    delays = page.locator("#delais")
    expect(delays).to_contain_text("Première réponse")
    expect(delays).to_contain_text("Clôture : en attente (cible 90 jours)")
    expect(delays.locator("[data-overdue]")).to_have_count(0)
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Orientation vers CCAS de Vénissieux (par e-mail).")
    expect(timeline).to_contain_text("CCAS de Vénissieux : Acceptée.")
    expect(timeline).to_contain_text("Message envoyé au demandeur")
    expect(page.locator("#orientations")).to_contain_text("Acceptée")


def test_a_phone_call_is_entered_from_the_keyboard(page, org_a, claire):
    log_in(page, claire, second_factor=True)
    page.goto("/saisines/")
    page.get_by_role("link", name="Saisir un appel").click()
    form = page.locator("#quick-entry")
    # A short form: few fields, at most five required, the first one focused.
    fields = form.locator("input:not([type=hidden]), select, textarea")
    assert fields.count() <= 10
    assert form.get_by_text("(obligatoire)").count() <= 5
    origin = page.get_by_label("Origine de l'appel")
    expect(origin).to_be_focused()
    origin.select_option(label="Médecin généraliste")
    page.keyboard.press("Tab")
    page.keyboard.type("Dr Leroy")
    page.keyboard.press("Tab")
    page.keyboard.type("04 72 00 00 00")
    page.keyboard.press("Tab")
    page.keyboard.type("MARTIN Paulette")
    page.get_by_label("Demande").select_option(label="Préparation du pilulier")
    page.get_by_label("Urgence").select_option(label="Urgente (sous 48 h)")
    note = page.get_by_label("Note sur l'appel")
    note.fill("Sortie d'hôpital vendredi.")
    note.press("Enter")  # Enter submits
    expect(page.get_by_text(re.compile(r"Saisine S-\d{4}-\d{6} enregistrée\."))).to_be_visible()
    expect(page.get_by_text("Personne : MARTIN Paulette")).to_be_visible()
    expect(page.get_by_text("Bulletin soins")).to_be_visible()
    with scopes_disabled():
        saisine = Saisine.objects.get()
    assert (saisine.channel, saisine.origin, saisine.urgency) == ("phone", "gp", "urgent")
    assert saisine.requests == ["pill_organiser"] and saisine.assigned_to == claire
