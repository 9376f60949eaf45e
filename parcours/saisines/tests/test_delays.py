"""Delays of a saisine (received → first response → decision → closure) against the
targets, its timeline, and the requester's status link that shows no personal data."""

import datetime
import time
from unittest import mock

import pytest
from django.core import signing
from django.utils import timezone
from django_scopes import scopes_disabled

from parcours.saisines import services
from parcours.saisines.models import Saisine
from parcours.saisines.tests.saisine_factories import (
    OrientationFactory,
    PersonFactory,
    SaisineFactory,
)
from parcours.saisines.tokens import LinkInvalid

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def received(org, ago: datetime.timedelta, **fields) -> Saisine:
    return SaisineFactory(organisation=org, received_at=timezone.now() - ago, **fields)


def test_the_targets_come_from_settings(settings):
    settings.SAISINE_TARGET_FIRST_RESPONSE_HOURS = 24
    settings.SAISINE_TARGET_DECISION_DAYS = 3
    settings.SAISINE_TARGET_CLOSURE_DAYS = 30
    assert services.delay_targets() == {
        "first_response": 24 * HOUR,
        "decision": 3 * DAY,
        "closure": 30 * DAY,
    }


def test_the_default_targets(settings):
    assert services.delay_targets() == {
        "first_response": 48 * HOUR,
        "decision": 7 * DAY,
        "closure": 90 * DAY,
    }


def test_a_new_saisine_has_no_delay_yet_and_nothing_overdue(org_a):
    delays = services.saisine_delays(received(org_a, HOUR))
    assert (delays["first_response"], delays["decision"], delays["closure"]) == (None, None, None)
    assert delays["overdue"] == {"first_response": False, "decision": False, "closure": False}
    assert not delays["any_overdue"]


def test_a_saisine_waiting_past_a_target_is_overdue(org_a):
    delays = services.saisine_delays(received(org_a, 3 * DAY))
    assert delays["overdue"] == {"first_response": True, "decision": False, "closure": False}
    assert delays["elapsed"] >= 3 * DAY


def test_delays_are_measured_from_reception(org_a, claire):
    saisine = received(org_a, 3 * DAY)
    services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=1)
    services.saisine_decide(saisine=saisine, by=claire, decision="information")
    services.saisine_close(saisine=saisine, by=claire, outcome="Informée")

    delays = services.saisine_delays(saisine)

    for name in ("first_response", "decision", "closure"):
        assert 3 * DAY <= delays[name] < 3 * DAY + HOUR
    assert delays["first_response"] <= delays["decision"] <= delays["closure"]
    # Answered in 3 days: first response late (48 h), decision (7 d) and closure (90 d) on time.
    assert delays["overdue"] == {"first_response": True, "decision": False, "closure": False}


def test_a_finished_saisine_without_a_decision_is_not_overdue_for_it(org_a, claire):
    saisine = received(org_a, 10 * DAY)
    services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=1)
    services.saisine_start(saisine=saisine, by=claire)
    assert services.saisine_delays(saisine)["overdue"]["decision"] is True
    services.saisine_close(saisine=saisine, by=claire, outcome="Réglée par téléphone")
    delays = services.saisine_delays(saisine)
    assert delays["decision"] is None and delays["overdue"]["decision"] is False


def test_the_timeline_lists_events_in_order(org_a, claire):
    saisine = services.saisine_create(
        organisation=org_a,
        by=claire,
        data={"origin": "gp", "channel": "phone", "bulletin": "soins", "requester_name": "Dr A"},
    )
    services.saisine_note(saisine=saisine, by=claire, text="Rappeler demain")
    services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=1)
    services.saisine_decline(saisine=saisine, by=claire, reason="Hors territoire")

    events = services.saisine_timeline(saisine)

    assert [event.kind for event in events] == ["created", "note", "transition", "transition"]
    assert [event.at for event in events] == sorted(event.at for event in events)
    assert events[-1].text == "Hors territoire" and events[-1].by == claire


# --- The requester's status link -----------------------------------------------------------


def test_a_status_link_leads_back_to_its_saisine(org_a):
    saisine = SaisineFactory(organisation=org_a)
    token = services.saisine_status_token(saisine)
    assert signing.loads(token, salt="parcours.saisines.status") == {"s": saisine.pk}
    assert services.saisine_from_status_token(token) == saisine


def test_a_tampered_status_link_is_refused_in_french(org_a):
    token = services.saisine_status_token(SaisineFactory(organisation=org_a))
    for bad in (token[:-2] + "xx", "bonjour", ""):
        with pytest.raises(LinkInvalid, match="n'est pas valide") as error:
            services.saisine_from_status_token(bad)
        assert error.value.expired is False


def test_an_expired_status_link_says_so(org_a, settings):
    saisine = SaisineFactory(organisation=org_a)
    real = time.time
    with mock.patch.object(signing.time, "time", lambda: real() - 181 * 86400):
        old = services.saisine_status_token(saisine)
    with pytest.raises(LinkInvalid, match="expiré") as error:
        services.saisine_from_status_token(old)
    assert error.value.expired is True
    settings.SAISINE_STATUS_LINK_DAYS = 365
    assert services.saisine_from_status_token(old) == saisine


def test_an_orientation_token_is_not_a_status_token(org_a):
    from parcours.saisines.tokens import orientation_token

    orientation = OrientationFactory(saisine=SaisineFactory(organisation=org_a))
    with pytest.raises(LinkInvalid):
        services.saisine_from_status_token(orientation_token(orientation, "accepted"))


def test_the_public_status_holds_no_personal_data(org_a, claire):
    person = PersonFactory(organisation=org_a, birth_name="DUPONTEL", first_names="Martine")
    saisine = SaisineFactory(
        organisation=org_a,
        person=person,
        requester_name="Sophie Lemaire",
        requester_email="sophie@example.org",
        difficulty="Ulcère",
        free_text="Violences",
    )
    services.saisine_triage(saisine=saisine, by=claire, complexity={"health": 3}, level=3)
    services.saisine_decide(saisine=saisine, by=claire, decision="orientation", note="CSAPA")
    with scopes_disabled():
        OrientationFactory(saisine=saisine, recipient_name="CSAPA Lyon", status="declined")
        OrientationFactory(saisine=saisine, recipient_name="CCAS Vénissieux", status="accepted")

    status = services.saisine_public_status(saisine)

    assert status["reference"] == saisine.reference
    assert status["received_on"] == timezone.localdate(saisine.received_at)
    assert status["status"] == "in_progress"
    assert status["decision"] == "orientation"
    assert status["orientation_outcome"] == (
        "Votre demande a été orientée vers une structure qui l'a acceptée."
    )
    assert len(status["orientations"]) == 2
    flat = repr(status)
    for secret in (
        "DUPONTEL",
        "Martine",
        "Sophie",
        "sophie@example.org",
        "Ulcère",
        "Violences",
        "CSAPA",
        "CCAS",
    ):
        assert secret not in flat
    assert not any("person" in key or "requester" in key for key in status)


def test_the_public_status_of_a_declined_saisine_keeps_the_reason_private(org_a, claire):
    saisine = SaisineFactory(organisation=org_a)
    services.saisine_decline(saisine=saisine, by=claire, reason="Personne décédée")
    status = services.saisine_public_status(saisine)
    assert status["status"] == "declined" and status["is_final"]
    assert "décédée" not in repr(status)
    assert status["orientation_outcome"] == "" and status["decision_label"] == ""
