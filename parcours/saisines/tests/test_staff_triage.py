"""The triage screen: duplicates of the person, identification with the declared consent,
the complexity screening, the decisions (information, orientation, MT search, open a
case, decline), informing the médecin traitant; conflicts said in French, never a 500."""

import datetime
import html as html_module

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from parcours.audit.models import Action, AuditEvent
from parcours.directory.search import search_index_refresh
from parcours.directory.tests.directory_factories import (
    PracticeSituationFactory,
    ProfessionalFactory,
    ServiceFactory,
    StructureFactory,
)
from parcours.messaging import sms
from parcours.people.models import Consent, Person
from parcours.saisines import services
from parcours.saisines.models import Orientation, Saisine, SaisineEvent
from parcours.saisines.tests.saisine_factories import PersonFactory, SaisineFactory

pytestmark = pytest.mark.django_db

DESCRIPTION = "Personne : Amina HADDAD, née ou né le 23/09/1961\nSexe : Femme\nCommune : Vénissieux"


@pytest.fixture(autouse=True)
def _clean_outboxes():
    mail.outbox.clear()
    sms.outbox.clear()


@pytest.fixture
def resident_saisine(org_a):
    """A resident's request from the public form, not identified yet."""
    return SaisineFactory(
        organisation=org_a,
        origin="resident",
        channel="web",
        requester_name="Amina HADDAD",
        requester_email="amina@example.org",
        anonymous_description=DESCRIPTION,
        requests=["medecin_traitant"],
    )


@pytest.fixture
def known(org_a):
    return PersonFactory(
        organisation=org_a,
        birth_name="Haddad",
        first_names="Amina",
        birth_date=datetime.date(1961, 9, 23),
        sex="F",
    )


@pytest.fixture
def ccas(org_a):
    service = ServiceFactory(
        organisation=org_a, name="CCAS de Vénissieux", email="ccas@example.org"
    )
    search_index_refresh(kind="service", ids=[service.pk])
    return service


def text(response) -> str:
    return html_module.unescape(response.content.decode())


def url(name, saisine) -> str:
    return reverse(f"saisines:saisine-{name}", args=[saisine.pk])


def reload(saisine) -> Saisine:
    with scopes_disabled():
        return Saisine.objects.select_related("person").get(pk=saisine.pk)


def triaged(saisine, claire) -> Saisine:
    return services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=0)


# --- The person ----------------------------------------------------------------------------


def test_it_prefills_the_identity_and_shows_possible_duplicates(
    client, claire, resident_saisine, known
):
    client.force_login(claire)
    response = client.get(url("triage", resident_saisine))
    assert response.status_code == 200
    form = response.context["identity_form"]
    assert form.initial["birth_name"] == "HADDAD" and form.initial["first_names"] == "Amina"
    assert form.initial["birth_date"] == datetime.date(1961, 9, 23)
    assert form.initial["sex"] == "F"
    assert response.context["duplicates"] == [known]
    assert f"lier la fiche n° {known.pk}" in text(response)
    with scopes_disabled():  # the duplicate shown was a read of the person, audited
        assert AuditEvent.objects.filter(
            action=Action.READ, object_type="people.person", object_id=str(known.pk)
        ).exists()


def test_a_search_with_another_identity_shows_its_duplicates(client, claire, org_a):
    saisine = SaisineFactory(organisation=org_a, anonymous_description="")
    other = PersonFactory(
        organisation=org_a, birth_name="Martin", first_names="Paul", birth_date="1940-01-02"
    )
    client.force_login(claire)
    data = {
        "action": "search",
        "version": saisine.version,
        "birth_name": "MARTIN",
        "first_names": "Paul",
        "birth_date": "1940-01-02",
        "sex": "F",
    }
    response = client.post(url("identify", saisine), data)
    assert response.status_code == 200
    assert response.context["duplicates"] == [other]
    assert reload(saisine).person is None  # a search changes nothing


def test_creating_the_person_asks_to_confirm_when_duplicates_exist(
    client, claire, resident_saisine, known
):
    client.force_login(claire)
    data = {
        "action": "create",
        "version": resident_saisine.version,
        "birth_name": "HADDAD",
        "first_names": "Amina",
        "birth_date": "1961-09-23",
        "sex": "F",
    }
    response = client.post(url("identify", resident_saisine), data)
    assert response.status_code == 200
    assert "liez l'une d'elles, ou cochez cette case" in text(response)
    assert reload(resident_saisine).person is None
    response = client.post(url("identify", resident_saisine), {**data, "confirm_duplicates": "on"})
    assert response.status_code == 302
    saisine = reload(resident_saisine)
    assert saisine.person not in (None, known)
    assert (saisine.person.birth_name, saisine.person.sex) == ("HADDAD", "F")


def test_creating_the_person_records_the_consent_declared_online(client, claire, resident_saisine):
    client.force_login(claire)
    data = {
        "action": "create",
        "version": resident_saisine.version,
        "birth_name": "HADDAD",
        "first_names": "Amina",
        "birth_date": "1961-09-23",
        "sex": "F",
    }
    assert client.post(url("identify", resident_saisine), data).status_code == 302
    person = reload(resident_saisine).person
    with scopes_disabled():
        consent = Consent.objects.get(person=person)
    assert (consent.purpose, consent.scope, consent.method) == ("coordination", "team", "online")
    assert consent.categories == ["identity"]
    assert consent.collected_at == resident_saisine.received_at
    texts = [event.text for event in services.saisine_timeline(resident_saisine)]
    assert f"Personne identifiée (fiche n° {person.pk})." in texts


def test_linking_a_known_person_records_the_professionals_consent_once(
    client, claire, org_a, known
):
    saisine = SaisineFactory(organisation=org_a, requester_name="Sophie AS")
    client.force_login(claire)
    data = {"action": "link", "person": known.pk, "version": saisine.version}
    assert client.post(url("identify", saisine), data).status_code == 302
    assert reload(saisine).person == known
    with scopes_disabled():
        consent = Consent.objects.get(person=known)
    assert (consent.method, consent.collected_by_name) == ("professional", "Sophie AS")
    assert set(consent.categories) == {"identity", "health", "social"}
    # A second saisine for the same person: the consent in force covers it, none added.
    second = SaisineFactory(organisation=org_a)
    client.post(url("identify", second), {"action": "link", "person": known.pk, "version": 1})
    with scopes_disabled():
        assert Consent.objects.filter(person=known).count() == 1


def test_no_consent_is_recorded_when_none_was_declared(client, claire, org_a, known):
    saisine = SaisineFactory(organisation=org_a, consent_given=False)
    client.force_login(claire)
    client.post(url("identify", saisine), {"action": "link", "person": known.pk, "version": 1})
    assert reload(saisine).person == known
    with scopes_disabled():
        assert not Consent.objects.filter(person=known).exists()


def test_another_organisations_person_cannot_be_linked(client, claire, org_a, org_b):
    saisine = SaisineFactory(organisation=org_a)
    stranger = PersonFactory(organisation=org_b)
    client.force_login(claire)
    data = {"action": "link", "person": stranger.pk, "version": 1}
    assert client.post(url("identify", saisine), data).status_code == 404
    assert reload(saisine).person is None


def test_a_stale_page_cannot_link_a_person(client, claire, resident_saisine, known):
    triaged(resident_saisine, claire)  # someone else moved it on meanwhile
    client.force_login(claire)
    data = {"action": "link", "person": known.pk, "version": 1}
    response = client.post(url("identify", resident_saisine), data)
    assert response.status_code == 409
    assert "modifiée par quelqu'un d'autre" in text(response)
    assert reload(resident_saisine).person is None


# --- Complexity ----------------------------------------------------------------------------


def screening(saisine, **scores) -> dict:
    codes = ("health", "autonomy", "psychological", "social", "housing", "rights", "entourage")
    return {"version": saisine.version, **{code: scores.get(code, 0) for code in codes}}


def test_the_screening_triages_the_saisine_with_its_level(client, claire, resident_saisine):
    client.force_login(claire)
    response = client.post(
        url("screen", resident_saisine), screening(resident_saisine, housing=2, rights=2)
    )
    assert response.status_code == 302
    saisine = reload(resident_saisine)
    assert saisine.status == "triaged" and saisine.complexity_level == 2
    assert saisine.complexity["housing"] == 2 and saisine.complexity["health"] == 0
    assert "Complexe" in text(client.get(url("triage", saisine)))


def test_a_screening_with_a_wrong_score_is_refused_in_french(client, claire, resident_saisine):
    client.force_login(claire)
    response = client.post(url("screen", resident_saisine), screening(resident_saisine, health=7))
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in text(response)
    assert reload(resident_saisine).status == "received"


# --- Decisions -----------------------------------------------------------------------------


def test_information_given_closes_the_saisine(client, claire, resident_saisine):
    saisine = triaged(resident_saisine, claire)
    client.force_login(claire)
    data = {"decision": "information", "version": saisine.version, "what": "Adresse de la PMI."}
    response = client.post(url("decide", saisine), data, follow=True)
    saisine = reload(saisine)
    assert (saisine.status, saisine.decision, saisine.outcome) == (
        "closed",
        "information",
        "Adresse de la PMI.",
    )
    assert "Information donnée : la saisine est clôturée." in text(response)


def test_mt_search_is_recorded_and_leads_to_the_opening_of_the_search(
    client, claire, resident_saisine
):
    saisine = triaged(resident_saisine, claire)
    client.force_login(claire)
    page = text(client.get(url("triage", saisine)))
    assert "pas encore disponible" not in page
    data = {"decision": "mt_search", "mt-version": saisine.version, "mt-note": "Secteur est."}
    response = client.post(url("decide", saisine), data)
    assert response["Location"] == reverse("matching:search-open-saisine", args=[saisine.pk])
    saisine = reload(saisine)
    assert (saisine.status, saisine.decision, saisine.decision_note) == (
        "in_progress",
        "mt_search",
        "Secteur est.",
    )
    page = text(client.get(response["Location"]))
    assert "Indiquez les préférences de la personne pour ouvrir la recherche." in page
    assert "Identifier la personne" in page  # this saisine has no person's record yet
    detail = text(client.get(url("detail", saisine)))
    assert reverse("matching:search-open-saisine", args=[saisine.pk]) in detail


def test_opening_a_case_is_recorded_and_the_saisine_stays_in_progress(
    client, claire, resident_saisine
):
    saisine = triaged(resident_saisine, claire)
    client.force_login(claire)
    client.post(url("decide", saisine), {"decision": "open_case", "case-version": 2})
    assert (reload(saisine).status, reload(saisine).decision) == ("in_progress", "open_case")


def test_declining_needs_a_reason(client, claire, resident_saisine):
    client.force_login(claire)
    response = client.post(url("decide", resident_saisine), {"decision": "decline", "version": 1})
    assert response.status_code == 200 and "Ce champ est obligatoire" in text(response)
    assert reload(resident_saisine).status == "received"
    data = {
        "decision": "decline",
        "version": 1,
        "reason": "Hors territoire : voir la CPTS voisine.",
    }
    assert client.post(url("decide", resident_saisine), data).status_code == 302
    saisine = reload(resident_saisine)
    assert (saisine.status, saisine.decline_reason) == (
        "declined",
        "Hors territoire : voir la CPTS voisine.",
    )


def test_deciding_before_the_screening_is_refused_in_french(client, claire, resident_saisine):
    client.force_login(claire)
    data = {"decision": "information", "version": 1, "what": "Adresse."}
    response = client.post(url("decide", resident_saisine), data)
    assert response.status_code == 409
    assert "Action impossible : la saisine est « reçue »" in text(response)
    assert "Adresse.</textarea>" in text(response)  # nothing typed is lost


def test_a_stale_decision_is_refused_and_what_was_typed_is_kept(
    client, claire, hugo, resident_saisine
):
    saisine = triaged(resident_saisine, claire)
    stale_version = saisine.version
    services.saisine_decide(saisine=saisine, by=hugo, decision="open_case")  # hugo first
    client.force_login(claire)
    data = {"decision": "information", "version": stale_version, "what": "Numéro du CCAS."}
    response = client.post(url("decide", saisine), data)
    html = text(response)
    assert response.status_code == 409
    assert "vient d'être modifiée par quelqu'un d'autre" in html
    assert "Numéro du CCAS.</textarea>" in html
    assert reload(saisine).decision == "open_case"


def test_an_unknown_decision_is_a_message_not_an_error(client, claire, resident_saisine):
    client.force_login(claire)
    response = client.post(url("decide", resident_saisine), {"decision": "nimporte"}, follow=True)
    assert response.status_code == 200 and "Choisissez une décision." in text(response)


# --- Orientation ---------------------------------------------------------------------------


def test_orientation_from_the_triage_sends_the_email_and_records_the_decision(
    client, claire, resident_saisine, ccas
):
    saisine = triaged(resident_saisine, claire)
    client.force_login(claire)
    data = {
        "version": saisine.version,
        "resources": [f"service:{ccas.pk}"],
        "message": "Merci de recevoir Mme Haddad pour l'ouverture de ses droits.",
    }
    response = client.post(url("orient", saisine), data, follow=True)
    assert "Orientation envoyée à CCAS de Vénissieux." in text(response)
    saisine = reload(saisine)
    assert (saisine.status, saisine.decision) == ("in_progress", "orientation")
    [message] = mail.outbox
    assert message.to == ["ccas@example.org"] and saisine.reference in message.subject
    assert "/saisines/orientation/" in message.body
    with scopes_disabled():
        [orientation] = Orientation.objects.filter(saisine=saisine)
    assert (orientation.service, orientation.status, orientation.sent_by) == (ccas, "sent", claire)


def test_one_orientation_per_resource(client, claire, org_a, resident_saisine, ccas):
    structure = StructureFactory(name="Centre de santé", email="cds@example.org")
    gp = ProfessionalFactory(last_name="Généraliste")
    PracticeSituationFactory(professional=gp, email="mg@example.org")
    saisine = triaged(resident_saisine, claire)
    client.force_login(claire)
    values = [f"service:{ccas.pk}", f"structure:{structure.pk}", f"professional:{gp.pk}"]
    client.post(url("orient", saisine), {"version": saisine.version, "resources": values})
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ccas@example.org",
        "cds@example.org",
        "mg@example.org",
    ]


def test_a_resource_without_email_refuses_everything_unless_by_phone(
    client, claire, resident_saisine, ccas
):
    mute = StructureFactory(name="Foyer sans e-mail", email="")
    saisine = triaged(resident_saisine, claire)
    client.force_login(claire)
    data = {"version": saisine.version, "resources": [f"service:{ccas.pk}", f"structure:{mute.pk}"]}
    response = client.post(url("orient", saisine), data)
    html = text(response)
    assert response.status_code == 200
    assert "Foyer sans e-mail n'a pas d'adresse e-mail" in html
    assert 'value="service:' in html and "checked" in html  # the choices are kept
    assert mail.outbox == [] and reload(saisine).decision == ""
    client.post(
        url("orient", saisine), {**data, "resources": [f"structure:{mute.pk}"], "by_phone": "on"}
    )
    with scopes_disabled():
        assert Orientation.objects.get(saisine=saisine).structure == mute
    assert mail.outbox == []


def test_another_organisations_service_cannot_be_chosen(client, claire, org_b, resident_saisine):
    theirs = ServiceFactory(organisation=org_b, email="b@example.org")
    saisine = triaged(resident_saisine, claire)
    client.force_login(claire)
    data = {"version": saisine.version, "resources": [f"service:{theirs.pk}"]}
    response = client.post(url("orient", saisine), data)
    assert "n'est plus dans l'annuaire" in text(response)
    assert mail.outbox == []


def test_the_resource_search_is_an_htmx_fragment_of_the_directory(client, claire, org_b, ccas):
    theirs = ServiceFactory(organisation=org_b, name="CCAS secret B")
    search_index_refresh(kind="service", ids=[theirs.pk])
    client.force_login(claire)
    search = reverse("saisines:resource-search")
    html = text(client.get(search, {"q": "CCAS"}, headers={"HX-Request": "true"}))
    assert f'value="service:{ccas.pk}"' in html and "CCAS de Vénissieux" in html
    assert "secret B" not in html and "<html" not in html
    # What was ticked stays ticked, first, whatever the new search finds.
    html = text(client.get(search, {"q": "zzzz", "resources": f"service:{ccas.pk}"}))
    assert f'value="service:{ccas.pk}"' in html and "checked" in html
    assert "Aucune ressource trouvée" in html


def test_the_triage_page_searches_without_javascript(client, claire, resident_saisine, ccas):
    saisine = triaged(resident_saisine, claire)
    client.force_login(claire)
    html = text(client.get(url("triage", saisine), {"q": "ccas"}))
    assert f'value="service:{ccas.pk}"' in html and 'form="orientation-form"' in html


# --- The médecin traitant ------------------------------------------------------------------


def test_the_mt_is_offered_and_informed_when_the_person_has_one(client, claire, org_a):
    doctor = ProfessionalFactory(last_name="Médecin-Traitant")
    PracticeSituationFactory(professional=doctor, email="mt@example.org")
    person = PersonFactory(
        organisation=org_a, medecin_traitant_status="known", medecin_traitant=doctor
    )
    saisine = SaisineFactory(organisation=org_a, person=person)
    client.force_login(claire)
    assert "Informer le médecin traitant" in text(client.get(url("triage", saisine)))
    response = client.post(url("inform-mt", saisine), {"back": "triage"})
    assert response["Location"] == url("triage", saisine)
    [message] = mail.outbox
    assert message.to == ["mt@example.org"]
    assert reload(saisine).mt_informed_at is not None
    assert "Informer le médecin traitant" not in text(client.get(url("triage", saisine)))
    with scopes_disabled():
        assert SaisineEvent.objects.filter(saisine=saisine, kind="mt_informed").count() == 1


def test_without_a_mt_nothing_is_offered(client, claire, resident_saisine):
    client.force_login(claire)
    assert "Informer le médecin traitant" not in text(client.get(url("triage", resident_saisine)))


# --- Rules of every action -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["identify", "screen", "decide", "orient"])
def test_every_action_needs_the_csrf_token(claire, resident_saisine, name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(claire)
    assert client.post(url(name, resident_saisine), {"version": 1}).status_code == 403


@pytest.mark.parametrize("name", ["identify", "screen", "decide", "orient"])
def test_managers_cannot_act(client, manon, resident_saisine, name):
    client.force_login(manon)
    assert client.post(url(name, resident_saisine), {"version": 1}).status_code == 403


def test_the_triage_read_is_audited(client, claire, resident_saisine):
    client.force_login(claire)
    client.get(url("triage", resident_saisine))
    with scopes_disabled():
        assert AuditEvent.objects.filter(
            action=Action.READ,
            object_type="saisines.saisine",
            object_id=str(resident_saisine.pk),
            actor=claire,
        ).exists()


def test_person_rows_are_never_created_by_a_search(client, claire, resident_saisine):
    client.force_login(claire)
    client.get(url("triage", resident_saisine))
    with scopes_disabled():
        assert Person.objects.count() == 0
