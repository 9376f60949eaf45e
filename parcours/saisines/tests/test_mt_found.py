"""The médecin traitant search tells the saisine that an MT was found (saisine_mt_found)."""

import pytest
from django.core import mail
from django.urls import reverse
from django_scopes import scopes_disabled

from parcours.saisines import services
from parcours.saisines.models import SaisineEvent
from parcours.saisines.tests.saisine_factories import SaisineFactory

pytestmark = pytest.mark.django_db


def test_mt_found_is_recorded_once_and_the_requester_is_told(org_a, claire):
    saisine = SaisineFactory(organisation=org_a, requester_email="demandeuse@example.org")
    assert services.saisine_mt_found(saisine=saisine, by=claire) is True
    assert services.saisine_mt_found(saisine=saisine, by=claire) is False
    with scopes_disabled():
        saisine.refresh_from_db()
        kinds = list(saisine.events.values_list("kind", flat=True))
    assert saisine.mt_found_at is not None
    assert kinds.count(SaisineEvent.Kind.MT_FOUND) == 1
    assert [m.to for m in mail.outbox] == [["demandeuse@example.org"]]
    assert "médecin traitant a été trouvé" in mail.outbox[0].body
    assert services.saisine_public_status(saisine)["mt_found"] is True


def test_the_status_page_says_an_mt_was_found(client, org_a, claire):
    saisine = SaisineFactory(organisation=org_a)
    url = reverse("saisines:status", args=[services.saisine_status_token(saisine)])
    assert "data-mt-found" not in client.get(url).content.decode()
    services.saisine_mt_found(saisine=saisine, by=claire)
    page = client.get(url).content.decode()
    assert "Un médecin traitant a été trouvé" in page


def test_an_english_requester_is_told_in_english(org_a, claire):
    saisine = SaisineFactory(organisation=org_a, language="en", requester_email="r@example.org")
    services.saisine_mt_found(saisine=saisine, by=claire)
    assert mail.outbox[0].subject == "Your request: a GP (médecin traitant) has been found"
    assert "The coordination team will contact you" in mail.outbox[0].body
