"""Notifications: e-mail in the requester's language, SMS for those who gave only a phone
number (through the SMS gateway interface), and the médecin traitant's information
message that holds no clinical detail."""

import logging

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import translation
from django_scopes import scopes_disabled

from parcours.audit.models import Action, AuditEvent
from parcours.directory.tests.directory_factories import (
    PracticeSituationFactory,
    ProfessionalFactory,
    ServiceFactory,
)
from parcours.messaging import mask_phone, notify_requester, send_email, send_sms, sms
from parcours.saisines import services
from parcours.saisines.models import Saisine
from parcours.saisines.tests.saisine_factories import PersonFactory, SaisineFactory

pytestmark = pytest.mark.django_db

DIFFICULTY = "Plaie du pied diabétique, pansements non faits depuis 10 jours"
FREE_TEXT = "Suspicion de maltraitance par le conjoint"


@pytest.fixture(autouse=True)
def _clean_outboxes():
    mail.outbox.clear()
    sms.outbox.clear()


def all_sent_text() -> str:
    """Everything that left: e-mail subjects, bodies, HTML parts, SMS texts."""
    parts = []
    for message in mail.outbox:
        parts += [message.subject, message.body]
        parts += [content for content, _mimetype in getattr(message, "alternatives", [])]
    parts += [message.text for message in sms.outbox]
    return "\n".join(parts)


def reload(saisine) -> Saisine:
    with scopes_disabled():
        return Saisine.objects.get(pk=saisine.pk)


def oriented_saisine(org, claire, **fields) -> Saisine:
    saisine = SaisineFactory(organisation=org, difficulty=DIFFICULTY, free_text=FREE_TEXT, **fields)
    services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=1)
    services.saisine_decide(saisine=saisine, by=claire, decision="orientation")
    return saisine


# --- The requester: e-mail in their language, SMS without e-mail ---------------------------


def test_the_requester_is_told_the_outcome_in_english_when_they_wrote_in_english(org_a, claire):
    saisine = oriented_saisine(org_a, claire, language="en", requester_email="amy@example.org")
    ccas = ServiceFactory(organisation=org_a, email="ccas@example.org")
    orientation = services.orientation_send(saisine=saisine, by=claire, resource=ccas)
    mail.outbox.clear()

    with translation.override("fr"):  # whatever the language of whoever answers
        services.orientation_answer(orientation=orientation, answer="accepted")

    [message] = mail.outbox
    assert message.to == ["amy@example.org"]
    assert "Your request" in message.subject
    assert "accepted" in message.body and "Hello" in message.body
    assert "Bonjour" not in message.body
    assert 'lang="en"' in message.alternatives[0][0]
    assert translation.get_language() != "en"  # the override did not leak


def test_the_requester_gets_french_by_default(org_a, claire):
    saisine = oriented_saisine(org_a, claire, requester_email="sophie@example.org")
    ccas = ServiceFactory(organisation=org_a, email="ccas@example.org")
    orientation = services.orientation_send(saisine=saisine, by=claire, resource=ccas)
    mail.outbox.clear()
    services.orientation_answer(orientation=orientation, answer="done")
    [message] = mail.outbox
    assert "Bonjour" in message.body and "prise en charge" in message.body


def test_a_requester_with_only_a_phone_number_gets_an_sms(org_a, claire):
    saisine = oriented_saisine(
        org_a, claire, requester_email="", requester_phone="+33612345678", language="fr"
    )
    ccas = ServiceFactory(organisation=org_a, email="ccas@example.org")
    orientation = services.orientation_send(saisine=saisine, by=claire, resource=ccas)
    mail.outbox.clear()

    services.orientation_answer(
        orientation=orientation, answer="declined", reason="Complet jusqu'en mars"
    )

    assert mail.outbox == []
    [text] = sms.outbox
    assert text.to == "+33612345678"
    assert saisine.reference in text.text
    assert "autre solution" in text.text
    assert "Complet" not in text.text  # the reason is for the team, not the requester
    assert len(text.text) <= 320
    assert "(SMS)" in services.saisine_timeline(saisine)[-1].text


def test_a_requester_with_no_contact_is_not_notified_and_nothing_breaks(org_a, claire):
    saisine = oriented_saisine(org_a, claire, requester_email="", requester_phone="")
    ccas = ServiceFactory(organisation=org_a, email="ccas@example.org")
    orientation = services.orientation_send(saisine=saisine, by=claire, resource=ccas)
    mail.outbox.clear()
    services.orientation_answer(orientation=orientation, answer="accepted")
    assert mail.outbox == [] and sms.outbox == []


def test_a_failed_notification_does_not_undo_the_answer(org_a, claire, settings, caplog):
    settings.SMS_BACKEND = "parcours.saisines.tests.test_notifications.BrokenBackend"
    saisine = oriented_saisine(org_a, claire, requester_email="", requester_phone="+33612345678")
    ccas = ServiceFactory(organisation=org_a, email="ccas@example.org")
    orientation = services.orientation_send(saisine=saisine, by=claire, resource=ccas)

    with caplog.at_level(logging.WARNING):
        services.orientation_answer(orientation=orientation, answer="accepted")

    orientation.refresh_from_db()
    assert orientation.status == "accepted"
    assert "+3361" not in caplog.text and "612345678" not in caplog.text


class BrokenBackend(sms.BaseBackend):
    def send_messages(self, messages):
        raise ConnectionError("gateway down for +33612345678")


def test_a_message_to_the_requester_counts_as_the_first_response(org_a):
    saisine = SaisineFactory(organisation=org_a, requester_email="sophie@example.org")
    channel = services.saisine_notify_requester(
        saisine=saisine,
        subject="Votre demande",
        template_base="saisines/email/orientation_outcome",
        context={"answer": "accepted"},
    )
    assert channel == "email"
    assert reload(saisine).first_response_at is not None


# --- The SMS gateway interface ---------------------------------------------------------------


def test_the_console_backend_logs_a_masked_number_and_the_length_only(settings, caplog):
    settings.SMS_BACKEND = "parcours.messaging.sms.ConsoleBackend"
    with caplog.at_level(logging.INFO, logger="parcours.messaging.sms"):
        send_sms("06 12 34 56 78", "Votre demande S-2026-000001 a été acceptée.")
    assert "+33*******78" in caplog.text
    assert "43 characters" in caplog.text
    assert "acceptée" not in caplog.text and "12 34 56" not in caplog.text
    assert sms.outbox == []


def test_the_memory_backend_keeps_messages_in_an_outbox():
    send_sms("+33 6 12 34 56 78", "Bonjour")
    assert sms.outbox == [sms.SmsMessage(to="+33612345678", text="Bonjour")]


def test_bad_numbers_and_texts_are_refused():
    for number in ("", "12", "not a number"):
        with pytest.raises(ValueError):
            send_sms(number, "Bonjour")
    with pytest.raises(ValueError):
        send_sms("+33612345678", "   ")
    with pytest.raises(ValueError):
        send_sms("+33612345678", "x" * 1000)
    assert sms.outbox == []


def test_mask_phone():
    assert mask_phone("+33612345678") == "+33*******78"
    assert mask_phone("123") == "***"


def test_send_email_renders_both_parts_in_the_given_language(org_a):
    saisine = SaisineFactory(organisation=org_a)
    send_email(
        to="amy@example.org",
        subject=services.OUTCOME_SUBJECTS["accepted"],
        template_base="saisines/email/orientation_outcome",
        context={"saisine": saisine, "organisation": org_a, "answer": "accepted"},
        language="en",
    )
    [message] = mail.outbox
    assert "Your request" in message.subject
    assert message.alternatives[0][1] == "text/html"


def test_notify_requester_prefers_email_then_phone(org_a):
    both = SaisineFactory(
        organisation=org_a, requester_email="a@example.org", requester_phone="+33612345678"
    )
    phone = SaisineFactory(organisation=org_a, requester_email="", requester_phone="+33612345678")
    context = {"answer": "accepted"}
    base = "saisines/email/orientation_outcome"
    assert notify_requester(both, "Sujet", base, context) == "email"
    assert notify_requester(phone, "Sujet", base, context) == "sms"
    assert len(mail.outbox) == 1 and len(sms.outbox) == 1


# --- The médecin traitant is informed, without clinical details -----------------------------


@pytest.fixture
def doctor():
    gp = ProfessionalFactory(civility="Docteur", first_name="Paul", last_name="Garnier")
    PracticeSituationFactory(professional=gp, email="dr.garnier@example.org")
    return gp


def test_the_medecin_traitant_is_informed_without_clinical_details(org_a, claire, doctor):
    person = PersonFactory(
        organisation=org_a, birth_name="DUPONTEL", first_names="Martine", medecin_traitant=doctor
    )
    saisine = SaisineFactory(
        organisation=org_a, person=person, difficulty=DIFFICULTY, free_text=FREE_TEXT
    )

    assert services.saisine_inform_mt(saisine=saisine, by=claire) is True

    [message] = mail.outbox
    assert message.to == ["dr.garnier@example.org"]
    assert message.reply_to == ["claire@example.org"]
    sent = all_sent_text()
    assert saisine.reference in message.body
    assert "CPTS de Vénissieux" in message.body and "claire@example.org" in message.body
    for secret in (DIFFICULTY, FREE_TEXT, "pied", "maltraitance", "DUPONTEL", "Martine"):
        assert secret not in sent
    saisine = reload(saisine)
    assert saisine.mt_informed_at is not None
    assert services.saisine_timeline(saisine)[-1].kind == "mt_informed"
    assert AuditEvent.objects.filter(
        action=Action.UPDATE, object_id=str(saisine.pk), details__mt_informed=True
    ).exists()


def test_the_medecin_traitant_is_informed_once(org_a, claire, doctor):
    person = PersonFactory(organisation=org_a, medecin_traitant=doctor)
    saisine = SaisineFactory(organisation=org_a, person=person)
    assert services.saisine_inform_mt(saisine=saisine, by=claire) is True
    assert services.saisine_inform_mt(saisine=reload(saisine), by=claire) is False
    assert len(mail.outbox) == 1


def test_without_a_medecin_traitant_email_nothing_is_recorded(org_a, claire):
    no_email = ProfessionalFactory()
    PracticeSituationFactory(professional=no_email, email="")
    cases = [
        SaisineFactory(organisation=org_a),  # no person yet
        SaisineFactory(organisation=org_a, person=PersonFactory(organisation=org_a)),
        SaisineFactory(
            organisation=org_a,
            person=PersonFactory(organisation=org_a, medecin_traitant=no_email),
        ),
    ]
    for saisine in cases:
        assert services.saisine_inform_mt(saisine=saisine, by=claire) is False
        saisine = reload(saisine)
        assert saisine.mt_informed_at is None
        assert [event.kind for event in services.saisine_timeline(saisine)] == []
    assert mail.outbox == []


def test_a_failed_message_to_the_medecin_traitant_records_nothing(org_a, claire, doctor, settings):
    settings.EMAIL_BACKEND = "parcours.saisines.tests.test_notifications.BrokenEmailBackend"
    person = PersonFactory(organisation=org_a, medecin_traitant=doctor)
    saisine = SaisineFactory(organisation=org_a, person=person)
    with pytest.raises(ValidationError, match="n'a pas pu être envoyé"):
        services.saisine_inform_mt(saisine=saisine, by=claire)
    assert reload(saisine).mt_informed_at is None
    assert services.saisine_timeline(saisine) == []


class BrokenEmailBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("SMTP down")
