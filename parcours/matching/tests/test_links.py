"""The GP's answer from the signed links of an anonymous solicitation.

GET shows what the link will record and changes nothing (mail scanners open links); the
opening is audited. POST records: the first acceptance wins; a second GP's link then
answers "already placed" and that GP got the "déjà placé, merci" e-mail. A decline needs a
reason ("other" needs a note). Expired or tampered links answer 410.
"""

import time
from contextlib import contextmanager
from unittest import mock

import pytest
from django.core import mail, signing
from django.urls import reverse
from django_scopes import scopes_disabled

from parcours.audit.models import Action, AuditEvent
from parcours.lib.signed_links import dump
from parcours.matching import services
from parcours.matching.models import MTSearch, MTSearchEvent, Solicitation
from parcours.matching.tests.matching_factories import open_search, pool_gp, reload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_outbox():
    mail.outbox.clear()


@pytest.fixture
def gps(org_a):
    first = pool_gp(org_a, latitude=45.70, longitude=4.89, email="dr.premier@example.org")
    second = pool_gp(org_a, latitude=45.71, longitude=4.90, email="dr.second@example.org")
    return first, second


@pytest.fixture
def search(org_a, claire, gps):
    return open_search(org_a, by=claire)


@pytest.fixture
def wave(search, claire):
    """The two solicitations of the first wave, in the order of the GPs fixture."""
    sent = services.wave_send(search=search, by=claire)
    mail.outbox.clear()
    return sorted(sent, key=lambda s: s.email != "dr.premier@example.org")


def url(solicitation, action: str) -> str:
    return reverse("matching:solicitation-answer", args=[services.link_token(solicitation, action)])


def link_openings(solicitation) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=Action.LINK_OPENED,
            object_type="matching.solicitation",
            object_id=str(solicitation.pk),
        )
    )


@contextmanager
def clock_moved(days: float):
    """Signed tokens are dated by time.time(): sign as if it were ``days`` later."""
    real = time.time
    with mock.patch.object(signing.time, "time", lambda: real() + days * 86400):
        yield


# --- GET changes nothing, and is audited ------------------------------------------------------


def test_it_shows_what_the_accept_link_will_do_and_changes_nothing(client, wave, search):
    first, _second = wave

    response = client.get(url(first, "accept"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-state="open"' in page
    assert "Je confirme" in page
    assert 'method="post"' in page
    assert reload(first).status == Solicitation.Status.SENT
    assert reload(search).status == MTSearch.Status.OPEN
    assert mail.outbox == []
    assert response["Cache-Control"].startswith("max-age=0")


def test_opening_a_link_is_audited_with_the_person_and_no_personal_data(client, wave, search):
    first, _second = wave

    client.get(url(first, "decline"))
    client.get(url(first, "decline"))

    openings = link_openings(first)
    assert len(openings) == 2
    assert {event.person_id for event in openings} == {search.person_id}
    assert openings[0].organisation_id == search.organisation_id
    assert openings[0].details == {"action": "decline"}
    assert openings[0].actor_id is None


def test_a_post_is_not_counted_as_an_opening(client, wave):
    first, _second = wave
    client.post(url(first, "accept"))
    assert link_openings(first) == []


# --- Accept: the first one wins ----------------------------------------------------------------


def test_the_button_records_the_acceptance(client, wave, search, gps):
    first, _second = wave

    response = client.post(url(first, "accept"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-state="accepted"' in page
    assert "ce patient vous est confié" in page
    search = reload(search)
    assert search.status == MTSearch.Status.ACCEPTED
    assert search.accepted_professional_id == gps[0].pk
    assert search.accepted_via == MTSearch.Via.EMAIL
    assert reload(first).status == Solicitation.Status.ACCEPTED
    with scopes_disabled():
        assert MTSearchEvent.objects.filter(search=search, kind="accepted").count() == 1


def test_a_second_gps_accept_link_answers_already_placed(client, wave, search, gps):
    first, second = wave
    client.post(url(first, "accept"))

    response = client.post(url(second, "accept"))

    assert response.status_code == 409
    page = response.content.decode()
    assert 'data-state="placed"' in page
    assert "un confrère a accepté avant vous" in page
    assert reload(search).accepted_professional_id == gps[0].pk
    assert reload(second).status == Solicitation.Status.WITHDRAWN
    # Its GP was told at the first acceptance: "already placed, thank you".
    [told] = [message for message in mail.outbox if message.to == ["dr.second@example.org"]]
    assert "déjà placé, merci" in told.subject
    assert "un confrère a accepté avant vous" in told.body
    assert not [message for message in mail.outbox if message.to == ["dr.premier@example.org"]]


def test_the_second_gps_link_page_says_so_on_get_too(client, wave):
    first, second = wave
    client.post(url(first, "accept"))

    for action in ("accept", "decline"):
        response = client.get(url(second, action))
        assert response.status_code == 200
        page = response.content.decode()
        assert 'data-state="placed"' in page
        assert "<form" not in page.split('data-state="placed"')[1]


def test_the_winner_clicking_twice_keeps_the_search(client, wave, search, gps):
    first, _second = wave
    client.post(url(first, "accept"))

    again = client.post(url(first, "accept"))

    assert 'data-state="accepted"' in again.content.decode()
    assert reload(search).accepted_professional_id == gps[0].pk
    with scopes_disabled():
        assert MTSearchEvent.objects.filter(search=search, kind="accepted").count() == 1


def test_get_after_the_answer_shows_the_state(client, wave):
    first, second = wave
    client.post(url(first, "accept"))

    page = client.get(url(first, "accept")).content.decode()
    assert 'data-state="accepted"' in page and "ce patient vous est confié" in page
    assert 'method="post"' not in page
    # The winner's decline link, later, does not undo anything.
    page = client.get(url(first, "decline")).content.decode()
    assert 'data-state="accepted"' in page
    assert client.post(url(first, "decline"), {"reason": "full"}).status_code == 409
    assert reload(first).status == Solicitation.Status.ACCEPTED
    assert reload(second).status == Solicitation.Status.WITHDRAWN


# --- Decline: a reason, and a note for "other" ---------------------------------------------


def test_a_decline_needs_a_reason(client, wave):
    first, _second = wave

    response = client.post(url(first, "decline"), {"reason": ""})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Ce champ est obligatoire." in page
    assert 'data-state="open"' in page
    assert reload(first).status == Solicitation.Status.SENT


def test_an_unknown_reason_is_refused_in_french(client, wave):
    first, _second = wave
    response = client.post(url(first, "decline"), {"reason": "bored"})
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert reload(first).status == Solicitation.Status.SENT


def test_other_needs_a_note(client, wave):
    first, _second = wave

    response = client.post(url(first, "decline"), {"reason": "other", "note": "  "})

    assert response.status_code == 200
    assert "Précisez le motif." in response.content.decode()
    assert reload(first).status == Solicitation.Status.SENT


def test_the_decline_is_recorded_with_its_reason(client, wave, search):
    first, _second = wave

    response = client.post(url(first, "decline"), {"reason": "other", "note": "Je pars en mai"})

    assert response.status_code == 200
    assert 'data-state="declined"' in response.content.decode()
    first = reload(first)
    assert (first.status, first.decline_reason, first.decline_note) == (
        Solicitation.Status.DECLINED,
        "other",
        "Je pars en mai",
    )
    assert reload(search).status == MTSearch.Status.OPEN
    page = client.get(url(first, "decline")).content.decode()
    assert 'data-state="declined"' in page and "<form" not in page.split("data-state")[1]
    # The accept link of a declined request cannot take the search any more.
    assert client.post(url(first, "accept")).status_code == 409
    assert reload(search).status == MTSearch.Status.OPEN


def test_a_request_withdrawn_because_the_search_closed_says_so(client, wave, search, claire):
    first, _second = wave
    services.search_close(search=search, by=claire, reason="Déménagement")

    response = client.post(url(first, "accept"))

    assert response.status_code == 409
    assert 'data-state="withdrawn"' in response.content.decode()
    assert reload(search).status == MTSearch.Status.CLOSED


# --- Links that cannot be used --------------------------------------------------------------


def test_an_expired_link_answers_410_and_says_whom_to_contact(client, wave, search, settings):
    first, _second = wave
    days = settings.MATCHING_LINK_DAYS
    with clock_moved(days=-(days + 1)):
        expired = url(first, "accept")
    with clock_moved(days=-(days - 1)):
        fresh = url(first, "accept")

    for response in (client.get(expired), client.post(expired)):
        assert response.status_code == 410
        page = response.content.decode()
        assert "expiré" in page and "CPTS de Vénissieux" in page
    assert reload(first).status == Solicitation.Status.SENT
    assert reload(search).status == MTSearch.Status.OPEN
    assert link_openings(first) == []
    assert client.get(fresh).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        "tampered",
        "payload",
        "action",
        "salt",
        "missing",
    ],
)
def test_a_tampered_link_answers_410(client, wave, search, token):
    first, _second = wave
    good = services.link_token(first, "accept")
    tokens = {
        "tampered": good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb"),
        "payload": dump({"s": "x", "a": "accept"}, salt=services.LINK_SALT),
        "action": dump({"s": first.pk, "a": "delete"}, salt=services.LINK_SALT),
        "salt": dump({"s": first.pk, "a": "accept"}, salt="parcours.directory.survey"),
        "missing": dump({"s": 999999, "a": "accept"}, salt=services.LINK_SALT),
    }
    link = reverse("matching:solicitation-answer", args=[tokens[token]])

    for response in (client.get(link), client.post(link)):
        assert response.status_code == 410
        assert "Ce lien" in response.content.decode() or "Cette demande" in (
            response.content.decode()
        )
    assert reload(first).status == Solicitation.Status.SENT
    assert reload(search).status == MTSearch.Status.OPEN


def test_the_link_page_is_not_indexed(client, wave):
    first, _second = wave
    page = client.get(url(first, "accept")).content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in page
