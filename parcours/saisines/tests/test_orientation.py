"""Closed-loop orientation: the coordinator orients a saisine to a directory resource, the
recipient answers from signed links without an account, the requester is told, and
unanswered orientations are reminded, then flagged for the coordinator."""

import datetime
import re
import time
from contextlib import contextmanager
from unittest import mock

import pytest
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from parcours.audit.models import Action, AuditEvent
from parcours.core.scheduler import PERIODIC_JOBS
from parcours.directory.tests.directory_factories import (
    CommuneFactory,
    PracticeSituationFactory,
    ProfessionalFactory,
    ServiceFactory,
    StructureFactory,
)
from parcours.messaging import sms
from parcours.saisines import services
from parcours.saisines.models import Orientation, SaisineEvent
from parcours.saisines.selectors import orientations_flagged
from parcours.saisines.tasks import orientation_reminders_job
from parcours.saisines.tests.saisine_factories import (
    OrientationFactory,
    PersonFactory,
    SaisineFactory,
)
from parcours.saisines.tokens import orientation_token

pytestmark = pytest.mark.django_db

SECRET_HEALTH = "Ulcère veineux surinfecté"
SECRET_TEXT = "Violences conjugales signalées"


@pytest.fixture(autouse=True)
def _clean_outboxes():
    mail.outbox.clear()
    sms.outbox.clear()


@pytest.fixture
def ccas(org_a):
    return ServiceFactory(organisation=org_a, name="CCAS de Vénissieux", email="ccas@example.org")


@pytest.fixture
def saisine(org_a, claire):
    person = PersonFactory(
        organisation=org_a,
        birth_name="DUPONTEL",
        first_names="Martine Josette",
        commune=CommuneFactory(),
    )
    saisine = SaisineFactory(
        organisation=org_a,
        person=person,
        requester_email="sophie.as@example.org",
        difficulty=SECRET_HEALTH,
        free_text=SECRET_TEXT,
    )
    services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=1)
    services.saisine_decide(saisine=saisine, by=claire, decision="orientation")
    return saisine


def send(saisine, claire, ccas, **kwargs) -> Orientation:
    return services.orientation_send(
        saisine=saisine,
        by=claire,
        resource=ccas,
        message="Merci de recevoir Martine pour ses droits.",
        **kwargs,
    )


def links_of(message) -> dict[str, str]:
    """The answer links of an orientation e-mail, by action."""
    urls = re.findall(r"http://testserver(/saisines/orientation/[^/\s]+/)", message.body)
    assert len(urls) == 3
    return dict(zip(("accepted", "declined", "done"), urls, strict=True))


def timeline(saisine) -> list[SaisineEvent]:
    return services.saisine_timeline(saisine)


def reload(orientation) -> Orientation:
    with scopes_disabled():
        return Orientation.objects.get(pk=orientation.pk)


@contextmanager
def clock_moved(days: float):
    """Signed tokens are dated by time.time(): sign as if it were ``days`` later."""
    real = time.time
    with mock.patch.object(signing.time, "time", lambda: real() + days * 86400):
        yield


# --- Sending -------------------------------------------------------------------------------


def test_it_emails_the_recipient_three_signed_links_and_no_health_data(saisine, claire, ccas):
    orientation = send(saisine, claire, ccas)

    assert (orientation.status, orientation.recipient_name) == ("sent", "CCAS de Vénissieux")
    assert orientation.service == ccas and orientation.sent_by == claire
    [message] = mail.outbox
    assert message.to == ["ccas@example.org"]
    assert message.reply_to == ["claire@example.org"]
    assert saisine.reference in message.subject
    assert "Martine" not in message.subject
    assert set(links_of(message)) == {"accepted", "declined", "done"}
    html = message.alternatives[0][0]
    for text in (message.body, html, message.subject):
        assert SECRET_HEALTH not in text and SECRET_TEXT not in text
        assert "DUPONTEL" not in text
    assert "Martine" in message.body and "Vénissieux" in message.body
    assert timeline(saisine)[-1].kind == "orientation"
    assert AuditEvent.objects.filter(
        action=Action.CREATE, object_type="saisines.orientation", object_id=str(orientation.pk)
    ).exists()


def test_the_token_holds_ids_only(saisine, claire, ccas):
    orientation = send(saisine, claire, ccas)
    token = orientation_token(orientation, "accepted")
    assert signing.loads(token, salt="parcours.saisines.orientation") == {
        "o": orientation.pk,
        "a": "accepted",
    }


def test_a_resource_without_email_is_refused_unless_phoned(saisine, claire, org_a):
    no_email = ServiceFactory(organisation=org_a, name="Épicerie solidaire", email="")
    with pytest.raises(ValidationError, match="pas d'adresse e-mail"):
        send(saisine, claire, no_email)

    orientation = send(saisine, claire, no_email, by_phone=True)
    assert orientation.status == "sent"
    assert mail.outbox == []
    assert "téléphone" in timeline(saisine)[-1].text


def test_structures_and_professionals_are_resources_too(saisine, claire):
    structure = StructureFactory(name="Centre hospitalier", email="ch@example.org")
    gp = ProfessionalFactory(civility="Docteur", first_name="Anne", last_name="Roux")
    PracticeSituationFactory(professional=gp, email="dr.roux@example.org")

    by_structure = send(saisine, claire, structure)
    by_gp = send(saisine, claire, gp)

    assert (by_structure.structure, by_structure.recipient_email) == (structure, "ch@example.org")
    assert (by_gp.professional, by_gp.recipient_name) == (gp, "Docteur Anne Roux")
    assert [m.to for m in mail.outbox] == [["ch@example.org"], ["dr.roux@example.org"]]


def test_a_service_of_another_organisation_is_refused(saisine, claire, org_b):
    theirs = ServiceFactory(organisation=org_b, email="autre@example.org")
    with pytest.raises(ValidationError, match="n'appartient pas"):
        send(saisine, claire, theirs)


def test_the_same_resource_is_not_asked_twice_while_it_is_pending(saisine, claire, ccas):
    send(saisine, claire, ccas)
    with pytest.raises(ValidationError, match="déjà en cours"):
        send(saisine, claire, ccas)
    assert len(mail.outbox) == 1


def test_a_closed_saisine_is_not_oriented(saisine, claire, ccas):
    services.saisine_close(saisine=saisine, by=claire, outcome="Résolue")
    with pytest.raises(services.TransitionRefused, match="ne peut plus être orientée"):
        send(saisine, claire, ccas)


# --- The recipient's page ------------------------------------------------------------------


def test_opening_a_link_changes_nothing_and_is_audited(client, saisine, claire, ccas):
    orientation = send(saisine, claire, ccas)
    url = links_of(mail.outbox[0])["accepted"]
    before = len(timeline(saisine))

    response = client.get(url)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Confirmer ma réponse" in page
    assert "Martine" in page and "Vénissieux" in page  # first name and commune at most
    for secret in (SECRET_HEALTH, SECRET_TEXT, "DUPONTEL", "Josette", "sophie.as@example.org"):
        assert secret not in page
    assert reload(orientation).status == "sent"
    assert len(timeline(saisine)) == before
    assert AuditEvent.objects.filter(
        action=Action.LINK_OPENED, object_id=str(orientation.pk)
    ).exists()


def test_accepting_records_the_answer_and_tells_the_requester(client, saisine, claire, ccas):
    orientation = send(saisine, claire, ccas)
    url = links_of(mail.outbox[0])["accepted"]
    mail.outbox.clear()

    response = client.post(url)

    assert response.status_code == 200
    assert "Merci pour votre réponse" in response.content.decode()
    orientation = reload(orientation)
    assert orientation.status == "accepted" and orientation.answered_at is not None
    assert "CCAS de Vénissieux : Acceptée." in timeline(saisine)[-2].text
    assert timeline(saisine)[-1].kind == "message"
    [told] = mail.outbox
    assert told.to == ["sophie.as@example.org"]
    assert "acceptée" in told.body
    assert "CCAS" not in told.body and SECRET_HEALTH not in told.body
    assert "/saisines/suivi/" in told.body  # the requester's status link


def test_declining_needs_a_reason(client, saisine, claire, ccas):
    orientation = send(saisine, claire, ccas)
    url = links_of(mail.outbox[0])["declined"]

    response = client.post(url, {"reason": ""})

    assert response.status_code == 200
    assert "Ce champ est obligatoire" in response.content.decode()
    assert reload(orientation).status == "sent"

    client.post(url, {"reason": "Hors de notre secteur"})
    orientation = reload(orientation)
    assert (orientation.status, orientation.decline_reason) == (
        "declined",
        "Hors de notre secteur",
    )


def test_the_same_answer_twice_changes_nothing(client, saisine, claire, ccas):
    orientation = send(saisine, claire, ccas)
    url = links_of(mail.outbox[0])["accepted"]
    client.post(url)
    answered = reload(orientation).answered_at
    events, messages = len(timeline(saisine)), len(mail.outbox)

    response = client.post(url)

    assert response.status_code == 200
    assert reload(orientation).answered_at == answered
    assert len(timeline(saisine)) == events
    assert len(mail.outbox) == messages
    assert "déjà enregistrée" in client.get(url).content.decode()


def test_accepted_then_done(client, saisine, claire, ccas):
    orientation = send(saisine, claire, ccas)
    links = links_of(mail.outbox[0])
    client.post(links["accepted"])
    client.post(links["done"])
    orientation = reload(orientation)
    assert orientation.status == "done" and orientation.done_at is not None


def test_a_final_answer_cannot_be_changed_by_another_link(client, saisine, claire, ccas):
    orientation = send(saisine, claire, ccas)
    links = links_of(mail.outbox[0])
    client.post(links["done"])

    page = client.get(links["declined"])
    assert page.status_code == 200
    assert "ne peut plus changer" in page.content.decode()
    assert "Confirmer ma réponse" not in page.content.decode()
    response = client.post(links["declined"], {"reason": "Finalement non"})

    assert response.status_code == 409
    assert "réponse définitive" in response.content.decode()
    assert reload(orientation).status == "done"
    with pytest.raises(services.TransitionRefused, match="réponse définitive"):
        services.orientation_answer(orientation=orientation, answer="accepted")


def test_a_tampered_link_answers_410_in_french(client, saisine, claire, ccas):
    orientation = send(saisine, claire, ccas)
    token = orientation_token(orientation, "accepted")
    forged = token.replace(token[-4:], "AAAA" if token[-4:] != "AAAA" else "BBBB")

    for url in (
        reverse("saisines:orientation-answer", args=[forged]),
        reverse("saisines:orientation-answer", args=["n-importe-quoi"]),
    ):
        response = client.get(url)
        assert response.status_code == 410
        assert "n'est pas valide" in response.content.decode()
        assert client.post(url).status_code == 410
    assert reload(orientation).status == "sent"


def test_an_expired_link_answers_410_and_says_whom_to_contact(client, saisine, claire, ccas):
    orientation = send(saisine, claire, ccas)
    with clock_moved(days=-31):  # signed 31 days ago; links live 30 days
        url = reverse("saisines:orientation-answer", args=[orientation_token(orientation, "done")])
    with clock_moved(days=-29):
        fresh = reverse(
            "saisines:orientation-answer", args=[orientation_token(orientation, "done")]
        )

    response = client.post(url)

    assert response.status_code == 410
    page = response.content.decode()
    assert "expiré" in page and "CPTS de Vénissieux" in page
    assert reload(orientation).status == "sent"
    assert client.get(fresh).status_code == 200


def test_the_team_records_an_answer_given_by_phone(saisine, claire, org_a):
    phoned = ServiceFactory(organisation=org_a, email="")
    orientation = send(saisine, claire, phoned, by_phone=True)
    services.orientation_answer(orientation=orientation, answer="accepted", by=claire)
    assert reload(orientation).status == "accepted"
    assert timeline(saisine)[-2].by == claire


# --- Reminders and no answer (moved clock) --------------------------------------------------


def test_an_unanswered_orientation_is_reminded_once_then_flagged(saisine, claire, ccas, org_a):
    orientation = send(saisine, claire, ccas)
    mail.outbox.clear()
    now = timezone.now()

    assert services.orientations_remind_due(now + datetime.timedelta(days=4)) == {
        "reminded": 0,
        "flagged": 0,
    }
    assert services.orientations_remind_due(now + datetime.timedelta(days=6)) == {
        "reminded": 1,
        "flagged": 0,
    }
    [reminder] = mail.outbox
    assert reminder.to == ["ccas@example.org"] and "Rappel" in reminder.subject
    assert len(links_of(reminder)) == 3
    assert services.orientations_remind_due(now + datetime.timedelta(days=7)) == {
        "reminded": 0,
        "flagged": 0,
    }
    assert len(mail.outbox) == 1  # one reminder only

    assert services.orientations_remind_due(now + datetime.timedelta(days=12))["flagged"] == 1
    orientation = reload(orientation)
    assert orientation.status == "no_answer" and orientation.flagged_at is not None
    with scopes_disabled():
        assert list(orientations_flagged(organisation=org_a)) == [orientation]
    assert "Sans réponse" in timeline(saisine)[-1].text
    assert services.orientations_remind_due(now + datetime.timedelta(days=30)) == {
        "reminded": 0,
        "flagged": 0,
    }

    # A late answer is still welcome.
    services.orientation_answer(orientation=orientation, answer="accepted")
    assert reload(orientation).status == "accepted"


def test_answered_orientations_are_left_alone(saisine, claire, ccas):
    orientation = send(saisine, claire, ccas)
    services.orientation_answer(orientation=orientation, answer="accepted")
    mail.outbox.clear()
    later = timezone.now() + datetime.timedelta(days=60)
    assert services.orientations_remind_due(later) == {"reminded": 0, "flagged": 0}
    assert mail.outbox == []


def test_a_phoned_orientation_is_flagged_after_both_delays(saisine, claire, org_a):
    orientation = send(saisine, claire, ServiceFactory(organisation=org_a, email=""), by_phone=True)
    now = timezone.now()
    assert services.orientations_remind_due(now + datetime.timedelta(days=9))["flagged"] == 0
    assert services.orientations_remind_due(now + datetime.timedelta(days=11))["flagged"] == 1
    assert reload(orientation).status == "no_answer"
    assert mail.outbox == []


def test_the_delays_come_from_settings(saisine, claire, ccas, settings):
    settings.ORIENTATION_REMINDER_DAYS = 2
    send(saisine, claire, ccas)
    later = timezone.now() + datetime.timedelta(days=3)
    assert services.orientations_remind_due(later)["reminded"] == 1


def test_the_reminders_run_as_a_periodic_job(org_a):
    OrientationFactory(
        saisine=SaisineFactory(organisation=org_a),
        sent_at=timezone.now() - datetime.timedelta(days=6),
        recipient_email="ccas@example.org",
    )
    assert "saisines_orientation_reminders" in {job.name for job in PERIODIC_JOBS}
    result = orientation_reminders_job.enqueue()
    assert result.return_value == {"reminded": 1, "flagged": 0}


def test_a_failed_reminder_is_retried_at_the_next_run(saisine, claire, ccas):
    orientation = send(saisine, claire, ccas)
    later = timezone.now() + datetime.timedelta(days=6)
    with mock.patch.object(services.messaging, "send_email", side_effect=OSError("smtp down")):
        assert services.orientations_remind_due(later)["reminded"] == 0
    assert reload(orientation).reminders_sent == 0
    assert services.orientations_remind_due(later)["reminded"] == 1


def test_orientation_tokens_never_reach_the_logs():
    import logging

    from parcours.lib.logging import RedactTokens

    entry = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Gone: %s",
        ("/saisines/orientation/eyJv:1x:abc/",),
        None,
    )
    RedactTokens().filter(entry)
    assert entry.getMessage() == "Gone: /saisines/orientation/…/"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent transactions need PostgreSQL (SQLite serialises every writer)",
)
@pytest.mark.django_db(transaction=True)
def test_racing_clicks_on_one_link_record_one_answer(saisine, claire, ccas):
    from parcours.saisines.tests.test_states import race

    orientation = send(saisine, claire, ccas)
    mail.outbox.clear()
    copies = [reload(orientation) for _ in range(4)]

    outcomes = race(
        *[lambda o=o: services.orientation_answer(orientation=o, answer="accepted") for o in copies]
    )

    assert all(isinstance(o, Orientation) for o in outcomes), outcomes
    answers = [e for e in timeline(saisine) if e.text.endswith(": Acceptée.")]
    assert len(answers) == 1
    assert len(mail.outbox) == 1  # the requester is told once
