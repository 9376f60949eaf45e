"""The single entry point in a browser, from the resident's side: a resident files a request
in English from the public form and keeps the status link; once the team has oriented the
request and the service has accepted it, the status page shows the outcome."""

import re

import pytest
from django.core import mail
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from parcours.directory.tests.directory_factories import CommuneFactory, ServiceFactory
from parcours.saisines import services
from parcours.saisines.models import Orientation, Saisine
from parcours.territory.models import Territory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def territory_a(org_a):
    with scopes_disabled():
        territory = Territory.objects.create(organisation=org_a, name="CPTS de Vénissieux")
        territory.communes.add(CommuneFactory())
    return territory


def file_a_request_in_english(page) -> str:
    """Fill the resident form in English; return the status link the confirmation shows."""
    page.goto("/saisines/cpts-venissieux/demande/")
    expect(page.get_by_role("heading", name="Demander de l'aide")).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Ask for help")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_label("Me, for myself").check()
    page.get_by_label("The person's first name").fill("Amina")
    page.get_by_label("The person's last name").fill("Haddad")
    page.get_by_label("The person's date of birth").fill("1961-09-23")
    page.get_by_label("Town where the person lives").select_option(label="Vénissieux")
    page.get_by_label("No", exact=True).check()
    page.get_by_label("Arabic").check()
    page.get_by_label("English", exact=True).check()
    page.get_by_label("E-mail address").fill("amina.haddad@example.org")
    page.get_by_label("Find a regular doctor (médecin traitant)").check()

    page.get_by_role("button", name="Send my request").click()  # consent not ticked yet
    expect(page.get_by_text("Tick this box to send the request").first).to_be_visible()
    expect(page.get_by_label("The person's first name")).to_have_value("Amina")  # kept
    page.get_by_label("I have read this information and I agree").check()
    page.get_by_role("button", name="Send my request").click()

    expect(page.get_by_role("heading", name="Your request has been sent")).to_be_visible()
    link = page.get_by_role("textbox", name="Status link").input_value()
    assert re.fullmatch(r"http://[^/]+/saisines/suivi/[^/]+/", link)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy the link").click()
    expect(page.get_by_text("Link copied.")).to_be_visible()
    return link


def test_a_resident_files_in_english_keeps_the_link_and_sees_the_outcome(
    page, org_a, claire, territory_a
):
    link = file_a_request_in_english(page)
    with scopes_disabled():
        saisine = Saisine.objects.select_related("organisation").get()
    assert (saisine.origin, saisine.language, saisine.person) == ("resident", "en", None)
    assert "Amina HADDAD" in saisine.anonymous_description
    [message] = mail.outbox  # the same link, by e-mail, in English
    assert message.subject == "Your request has been received"
    assert "/saisines/suivi/" in message.body and saisine.reference in message.body

    # Kept: opened later, in a new browser session, from the link alone.
    page.context.clear_cookies()
    page.goto(link)
    expect(page.get_by_role("heading", name="Suivi de votre demande")).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_text(saisine.reference)).to_be_visible()
    expect(
        page.get_by_text("Your request has been received; the team will look at it.")
    ).to_be_visible()
    expect(page.get_by_text("Amina")).to_have_count(0)  # no personal data on that page

    # The team orients the request to the CCAS, which accepts it (through the services).
    ccas = ServiceFactory(organisation=org_a, name="CCAS de Vénissieux", email="ccas@example.org")
    services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=1)
    services.saisine_decide(saisine=saisine, by=claire, decision="orientation")
    orientation = services.orientation_send(saisine=saisine, by=claire, resource=ccas)
    services.orientation_answer(orientation=orientation, answer=Orientation.Status.ACCEPTED)

    page.reload()
    expect(
        page.get_by_text("Your request has been referred to a service that has accepted it.")
    ).to_be_visible()
    expect(
        page.get_by_text("The team has referred your request to a suitable service.")
    ).to_be_visible()
    expect(page.get_by_text("CCAS")).to_have_count(0)  # the service's name is not shown
    outcome = mail.outbox[-1]
    assert outcome.to == ["amina.haddad@example.org"]
    assert outcome.subject == "Your request: a service has accepted it"
