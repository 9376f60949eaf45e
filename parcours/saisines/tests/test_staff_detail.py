"""A saisine's page: what it says, its attachments, timeline, delays and orientations;
notes, assignment, first response, closure, answers taken by phone."""

import datetime
import html as html_module

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from parcours.audit.models import Action, AuditEvent
from parcours.messaging import sms
from parcours.saisines import services
from parcours.saisines.models import Orientation, Saisine, SaisineEvent
from parcours.saisines.tests.saisine_factories import (
    AttachmentFactory,
    OrientationFactory,
    PersonFactory,
    SaisineFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_outboxes():
    mail.outbox.clear()
    sms.outbox.clear()


@pytest.fixture
def saisine(org_a):
    return SaisineFactory(
        organisation=org_a,
        requester_name="Sophie Travailleuse-Sociale",
        anonymous_description="Personne : Odile LAMBERT, née ou né le 05/05/1950",
        received_at=timezone.now() - datetime.timedelta(days=3),
    )


def url(name, saisine) -> str:
    return reverse(f"saisines:saisine-{name}", args=[saisine.pk])


def text(response) -> str:
    return html_module.unescape(response.content.decode())


def reload(saisine) -> Saisine:
    with scopes_disabled():
        return Saisine.objects.get(pk=saisine.pk)


def in_progress(saisine, by) -> Saisine:
    services.saisine_triage(saisine=saisine, by=by, complexity={"housing": 2}, level=1)
    return services.saisine_decide(saisine=saisine, by=by, decision="orientation")


def test_the_page_shows_the_bulletin_requester_person_attachments_and_timeline(
    client, claire, saisine
):
    attachment = AttachmentFactory(saisine=saisine, name="courrier-as.pdf")
    services.saisine_note(saisine=saisine, by=claire, text="Appelée, rappeler demain.")
    client.force_login(claire)
    response = client.get(url("detail", saisine))
    page = text(response)
    assert response.status_code == 200
    for shown in (
        saisine.reference,
        "Difficulté clinique confidentielle",
        "Sophie Travailleuse-Sociale",
        "Odile LAMBERT",
        "courrier-as.pdf",
        reverse("saisines:attachment-download", args=[attachment.pk]),
        "Appelée, rappeler demain.",
        "E-mail non vérifié",
    ):
        assert shown in page, shown
    assert [event.kind for event in response.context["timeline"]] == ["note"]  # factory-made


def test_the_delays_show_their_targets_and_overdue_marks(client, claire, saisine):
    client.force_login(claire)
    response = client.get(url("detail", saisine))
    lines = {line["name"]: line for line in response.context["delay_lines"]}
    assert lines["first_response"]["overdue"] and lines["first_response"]["pending"]
    assert lines["first_response"]["target"] == "2 jours"
    assert not lines["decision"]["overdue"]
    page = text(response)
    assert "en attente (cible 2 jours)" in page and "en retard" in page
    assert "Depuis la réception : 3 jours" in page


def test_the_read_is_audited(client, claire, saisine):
    client.force_login(claire)
    client.get(url("detail", saisine))
    with scopes_disabled():
        assert AuditEvent.objects.filter(
            action=Action.READ, object_type="saisines.saisine", object_id=str(saisine.pk)
        ).exists()


def test_a_linked_person_is_linked_to_her_file(client, claire, org_a):
    person = PersonFactory(organisation=org_a, birth_name="Benali", first_names="Fatima")
    saisine = SaisineFactory(organisation=org_a, person=person)
    client.force_login(claire)
    page = text(client.get(url("detail", saisine)))
    assert reverse("people:person-detail", args=[person.pk]) in page and "Fatima Benali" in page


def test_a_note_is_added_to_the_timeline(client, claire, saisine):
    client.force_login(claire)
    response = client.post(url("note", saisine), {"text": "Mme L. rappelée."})
    assert response.status_code == 302 and response["Location"].endswith("#historique")
    [event] = services.saisine_timeline(saisine)
    assert (event.kind, event.text, event.by) == ("note", "Mme L. rappelée.", claire)
    response = client.post(url("note", saisine), {"text": "  "})
    assert response.status_code == 200 and "Ce champ est obligatoire" in text(response)


def test_assign_to_me_then_give_it_back(client, claire, saisine):
    client.force_login(claire)
    client.post(url("assign", saisine), {"to": "me", "expected": ""})
    assert reload(saisine).assigned_to == claire
    page = text(client.get(url("detail", saisine)))
    assert "Ne plus suivre" in page
    client.post(url("assign", saisine), {"to": "nobody", "expected": claire.pk})
    assert reload(saisine).assigned_to is None


def test_assigning_what_someone_else_just_took_is_refused(client, claire, hugo, saisine):
    client.force_login(hugo)
    client.post(url("assign", saisine), {"to": "me", "expected": ""})
    client.force_login(claire)
    response = client.post(url("assign", saisine), {"to": "me", "expected": ""}, follow=True)
    assert "vient d'être changé par quelqu'un d'autre" in text(response)
    assert reload(saisine).assigned_to == hugo


def test_the_first_response_is_recorded_once(client, claire, saisine):
    client.force_login(claire)
    client.post(url("first-response", saisine))
    first = reload(saisine).first_response_at
    assert first is not None
    response = client.post(url("first-response", saisine), follow=True)
    assert "déjà enregistrée" in text(response)
    assert reload(saisine).first_response_at == first


def test_closing_needs_an_outcome_and_the_version_read(client, claire, hugo, saisine):
    saisine = in_progress(saisine, claire)
    client.force_login(claire)
    response = client.post(url("close", saisine), {"version": saisine.version, "outcome": ""})
    assert response.status_code == 200 and "Ce champ est obligatoire" in text(response)
    services.saisine_note(saisine=saisine, by=hugo, text="note")  # notes do not conflict
    stale = saisine.version
    services.saisine_decide(saisine=saisine, by=hugo, decision="open_case")  # this does
    response = client.post(url("close", saisine), {"version": stale, "outcome": "Droits ouverts"})
    assert response.status_code == 409
    assert "modifiée par quelqu'un d'autre" in text(response)
    assert "Droits ouverts</textarea>" in text(response)
    version = reload(saisine).version
    response = client.post(url("close", saisine), {"version": version, "outcome": "Droits ouverts"})
    assert response.status_code == 302
    assert (reload(saisine).status, reload(saisine).outcome) == ("closed", "Droits ouverts")


def test_closing_a_closed_saisine_is_a_french_message(client, claire, saisine):
    saisine = in_progress(saisine, claire)
    services.saisine_close(saisine=saisine, by=claire, outcome="Fait")
    client.force_login(claire)
    response = client.post(url("close", saisine), {"version": saisine.version, "outcome": "x"})
    assert response.status_code == 409 and "son état ne peut plus changer" in text(response)


def test_an_answer_taken_by_phone_is_recorded_and_the_requester_told(client, claire, saisine):
    saisine = in_progress(saisine, claire)
    orientation = OrientationFactory(saisine=saisine)
    client.force_login(claire)
    record = reverse("saisines:orientation-record", args=[orientation.pk])
    response = client.post(record, {"answer": "declined"})
    assert response.status_code == 200
    assert "Indiquez pourquoi" in text(response)
    assert "<details open" in text(response)
    response = client.post(record, {"answer": "accepted"})
    assert response.status_code == 302
    with scopes_disabled():
        orientation = Orientation.objects.get(pk=orientation.pk)
    assert orientation.status == "accepted"
    assert mail.outbox[-1].to == [saisine.requester_email]
    with scopes_disabled():
        assert SaisineEvent.objects.filter(saisine=saisine, kind="orientation", by=claire).exists()
    page = text(client.get(url("detail", saisine)))
    assert "Acceptée" in page


def test_a_final_answer_cannot_change(client, claire, saisine):
    orientation = OrientationFactory(saisine=in_progress(saisine, claire), status="done")
    client.force_login(claire)
    record = reverse("saisines:orientation-record", args=[orientation.pk])
    response = client.post(record, {"answer": "accepted"})
    assert response.status_code == 409 and "réponse définitive" in text(response)


@pytest.mark.parametrize("name", ["note", "assign", "first-response", "close", "inform-mt"])
def test_every_action_needs_the_csrf_token(claire, saisine, name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(claire)
    assert client.post(url(name, saisine), {"text": "x", "to": "me"}).status_code == 403


@pytest.mark.parametrize("name", ["note", "assign", "first-response", "close", "inform-mt"])
def test_managers_and_partners_cannot_act(client, manon, paul, saisine, name):
    for user in (manon, paul):
        client.force_login(user)
        assert client.post(url(name, saisine), {"text": "x", "to": "me"}).status_code == 403
    assert services.saisine_timeline(saisine) == []
