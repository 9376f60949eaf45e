"""The escalation pages: the call round (pool GPs, then the other GPs of the sector; each
call's outcome), the IPA route, the hand-off file for the CPAM médiateur."""

import datetime
import html as html_module

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from parcours.audit.models import Action, AuditEvent
from parcours.directory.models import Availability
from parcours.directory.tests.directory_factories import (
    AvailabilityFactory,
    PracticeSituationFactory,
    ProfessionalFactory,
)
from parcours.matching import services
from parcours.matching.escalation_forms import call_prefix
from parcours.matching.models import Call, MTSearch, Solicitation
from parcours.matching.tests.matching_factories import (
    VENISSIEUX,
    open_search,
    person_without_mt,
    pool_gp,
    reload,
)

pytestmark = pytest.mark.django_db
KM = 1 / 111.195


@pytest.fixture(autouse=True)
def _clean_outbox():
    mail.outbox.clear()


def north(km: float) -> dict:
    return {"latitude": VENISSIEUX[0] + km * KM, "longitude": VENISSIEUX[1]}


def text(response) -> str:
    return html_module.unescape(response.content.decode())


def territory_gp(*, km: float, phone: str, declaration: str | None = None, organisation=None, **kw):
    """A GP practising at ``km`` north of the person, with an optional declaration."""
    gp = ProfessionalFactory(**kw)
    PracticeSituationFactory(professional=gp, phone=phone, **north(km))
    if declaration:
        expires = datetime.date.today() + datetime.timedelta(days=60)
        if declaration == "expired":
            expires = datetime.date.today() - datetime.timedelta(days=1)
        AvailabilityFactory(
            organisation=organisation,
            professional=gp,
            accepting="now" if declaration == "expired" else declaration,
            expires_on=expires,
        )
    return gp


@pytest.fixture
def sector(org_a):
    """Two pool GPs, and the other GPs around the person (10 km radius)."""
    return {
        "pool_near": pool_gp(org_a, last_name="Proche", phone="04 72 11 11 11", **north(1)),
        "pool_far": pool_gp(org_a, last_name="Moyen", phone="04 72 22 22 22", **north(5)),
        "undeclared": territory_gp(km=3, phone="04 72 33 33 33", last_name="Sansdeclaration"),
        "expired": territory_gp(
            km=4,
            phone="04 72 44 44 44",
            declaration="expired",
            organisation=org_a,
            last_name="Perime",
        ),
        "said_no": territory_gp(
            km=2, phone="04 72 55 55 55", declaration="no", organisation=org_a, last_name="Refus"
        ),
        "outside": territory_gp(km=12, phone="04 72 66 66 66", last_name="Lointain"),
        "nurse": territory_gp(
            km=1,
            phone="04 72 77 77 77",
            last_name="Infirmiere",
            profession_code="60",
            savoir_faire_code="",
        ),
    }


@pytest.fixture
def search(org_a, claire, sector):
    return open_search(org_a, by=claire)


def call_url(search) -> str:
    return reverse("matching:call-round", args=[search.pk])


def post_call(client, search, professional, **data):
    prefix = call_prefix(professional.pk)
    payload = {"professional": professional.pk}
    payload.update({f"{prefix}-{name}": value for name, value in data.items()})
    return client.post(call_url(search), payload)


def shown_ids(response, group: str) -> list[int]:
    lines = response.context["lines"] if group == "pool" else response.context["others"].lines
    return [line.candidate.professional_id for line in lines]


# --- The call round --------------------------------------------------------------------------


def test_it_lists_the_pool_then_the_other_gps_of_the_sector(client, claire, search, sector):
    client.force_login(claire)
    response = client.get(call_url(search))
    assert response.status_code == 200
    assert shown_ids(response, "pool") == [sector["pool_near"].pk, sector["pool_far"].pk]
    # Without a valid declaration, nearest first; not the one who said no, not the one
    # beyond the radius, not the nurse.
    assert shown_ids(response, "others") == [sector["undeclared"].pk, sector["expired"].pk]
    page = text(response)
    for number in ("04 72 11 11 11", "04 72 22 22 22", "04 72 33 33 33", "04 72 44 44 44"):
        assert number in page
    assert 'href="tel:0472111111"' in page
    for absent in ("04 72 55 55 55", "04 72 66 66 66", "04 72 77 77 77"):
        assert absent not in page
    assert "Oui, dès maintenant" in page  # the pool GP's availability
    assert "Pas de déclaration de disponibilité en cours" in page
    assert "km du domicile" in page


def test_it_shows_every_number_of_a_gp(client, claire, search, sector):
    PracticeSituationFactory(professional=sector["pool_near"], phone="04 78 00 00 01", **north(30))
    client.force_login(claire)
    response = client.get(call_url(search))
    line = response.context["lines"][0]
    assert line.phones == ["04 72 11 11 11", "04 78 00 00 01"]


def test_a_gp_who_declined_by_email_is_not_called(client, claire, search, sector):
    sent = services.wave_send(search=search, by=claire)
    declined = next(s for s in sent if s.professional_id == sector["pool_near"].pk)
    services.solicitation_decline(solicitation=declined, reason="full")
    client.force_login(claire)
    response = client.get(call_url(search))
    assert shown_ids(response, "pool") == [sector["pool_far"].pk]
    assert "sollicité par e-mail" in text(response)


def test_no_answer_sends_the_gp_to_the_end_of_the_list(client, claire, search, sector):
    client.force_login(claire)
    response = post_call(client, search, sector["pool_near"], outcome="no_answer", phone="04")
    assert response.status_code == 302
    assert response["Location"] == call_url(search)
    with scopes_disabled():
        call = Call.objects.get(search=search)
    assert (call.professional_id, call.outcome, call.by) == (
        sector["pool_near"].pk,
        "no_answer",
        claire,
    )
    response = client.get(call_url(search))
    assert shown_ids(response, "pool") == [sector["pool_far"].pk, sector["pool_near"].pk]
    assert "Appels précédents" in text(response)


def test_a_refusal_needs_a_reason_then_removes_the_gp(client, claire, search, sector):
    client.force_login(claire)
    response = post_call(client, search, sector["pool_near"], outcome="refused")
    assert response.status_code == 200
    assert "Choisissez le motif du refus." in text(response)
    with scopes_disabled():
        assert not Call.objects.filter(search=search).exists()
    # The line with the error keeps its form open and its prefix.
    assert response.context["lines"][0].form.is_bound

    response = post_call(client, search, sector["pool_near"], outcome="refused", reason="other")
    assert "Précisez le motif." in text(response)

    response = post_call(
        client, search, sector["pool_near"], outcome="refused", reason="full", note="Complet"
    )
    assert response.status_code == 302
    response = client.get(call_url(search))
    assert sector["pool_near"].pk not in shown_ids(response, "pool")


def test_an_acceptance_on_the_phone_takes_the_search(client, claire, search, sector):
    services.wave_send(search=search, by=claire)
    client.force_login(claire)
    response = post_call(client, search, sector["undeclared"], outcome="accepted")
    assert response.status_code == 302
    assert response["Location"] == reverse("matching:search-detail", args=[search.pk])
    search = reload(search)
    assert search.status == MTSearch.Status.ACCEPTED
    assert search.accepted_professional_id == sector["undeclared"].pk
    assert search.accepted_via == MTSearch.Via.PHONE
    with scopes_disabled():
        statuses = set(Solicitation.objects.filter(search=search).values_list("status", flat=True))
    assert statuses == {Solicitation.Status.WITHDRAWN}
    # The page then records no more calls.
    response = client.get(call_url(search))
    assert response.context["can_call"] is False
    assert "les appels ne s'enregistrent plus" in text(response)
    response = post_call(client, search, sector["pool_far"], outcome="no_answer")
    assert response.status_code == 409
    assert "Cette recherche n'est plus en cours : l'appel n'est pas enregistré." in text(response)
    with scopes_disabled():
        assert Call.objects.filter(search=search).count() == 1


def test_a_gp_outside_the_list_or_a_bad_id_is_refused(client, claire, search, sector):
    client.force_login(claire)
    for professional in ("", "abc", "999999", str(sector["said_no"].pk), str(sector["nurse"].pk)):
        response = client.post(call_url(search), {"professional": professional})
        assert response.status_code == 409, professional
        assert "n'est plus dans la liste d'appels" in text(response)
    with scopes_disabled():
        assert not Call.objects.filter(search=search).exists()


def test_an_unknown_outcome_is_a_french_error(client, claire, search, sector):
    client.force_login(claire)
    response = post_call(client, search, sector["pool_near"], outcome="maybe")
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in text(response)


def test_another_organisation_cannot_reach_the_call_round(client, bruno, search):
    client.force_login(bruno)
    assert client.get(call_url(search)).status_code == 404


# --- The IPA route ---------------------------------------------------------------------------


@pytest.fixture
def ald_search(org_a, claire, sector):
    return open_search(org_a, person_without_mt(org_a, ald=["8"]), by=claire)


def ipa_url(search, propose: bool = False) -> str:
    name = "matching:search-ipa-propose" if propose else "matching:search-ipa"
    return reverse(name, args=[search.pk])


def test_the_ipa_records_the_evaluation_visit(client, claire, ald_search):
    client.force_login(claire)
    response = client.get(ipa_url(ald_search))
    assert response.status_code == 200
    assert response.context["ipa_propose_form"] is None  # the visit comes first
    visit = timezone.localdate() - datetime.timedelta(days=2)
    response = client.post(
        ipa_url(ald_search),
        {"ipa_name": "Mme IPA", "visit_on": visit.strftime("%d/%m/%Y"), "evaluation": "Stable"},
    )
    assert response.status_code == 302
    search = reload(ald_search)
    assert (search.ipa_name, search.ipa_visit_on, search.ipa_evaluation) == (
        "Mme IPA",
        visit,
        "Stable",
    )
    response = client.get(ipa_url(search))
    assert response.context["ipa_propose_form"] is not None
    assert "Mme IPA" in text(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"ipa_name": "", "visit_on": "2025-01-01"}, "Indiquez l'IPA qui a évalué la personne."),
        ({"ipa_name": "IPA", "visit_on": "31/02/2025"}, "Saisissez une date valide"),
        (
            {"ipa_name": "IPA", "visit_on": "2999-01-01"},
            "La visite ne peut pas être dans le futur.",
        ),
    ],
)
def test_a_bad_visit_is_a_french_error(client, claire, ald_search, data, message):
    client.force_login(claire)
    response = client.post(ipa_url(ald_search), data)
    assert response.status_code == 200
    assert message in text(response)
    assert reload(ald_search).ipa_visit_on is None


def visited(search, by):
    return services.ipa_record(
        search=search,
        by=by,
        ipa_name="Mme IPA",
        visit_on=timezone.localdate(),
        evaluation="",
    )


def test_the_gp_who_takes_the_file_from_the_ipa(client, claire, ald_search, sector):
    visited(ald_search, claire)
    client.force_login(claire)
    choices = dict(
        client.get(ipa_url(ald_search)).context["ipa_propose_form"].fields["professional"].choices
    )
    # Every GP practising in the radius, whatever his declaration.
    assert sector["said_no"].pk in choices and sector["pool_near"].pk in choices
    assert sector["nurse"].pk not in choices and sector["outside"].pk not in choices
    response = client.post(
        ipa_url(ald_search, propose=True),
        {"professional": sector["said_no"].pk, "follow_up_mode": "shared"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("matching:search-detail", args=[ald_search.pk])
    search = reload(ald_search)
    assert search.status == MTSearch.Status.ACCEPTED
    assert (search.accepted_professional_id, search.accepted_via, search.follow_up_mode) == (
        sector["said_no"].pk,
        MTSearch.Via.IPA,
        MTSearch.FollowUpMode.SHARED,
    )


def test_the_ipa_may_name_a_gp_by_rpps(client, claire, ald_search, sector):
    visited(ald_search, claire)
    client.force_login(claire)
    url = ipa_url(ald_search, propose=True)
    response = client.post(url, {"rpps": "12345678901", "follow_up_mode": "intermittent"})
    assert response.status_code == 200
    assert "Aucun médecin généraliste en exercice avec ce RPPS." in text(response)
    response = client.post(url, {"rpps": sector["nurse"].rpps, "follow_up_mode": "shared"})
    assert "Aucun médecin généraliste en exercice avec ce RPPS." in text(response)
    response = client.post(url, {"rpps": sector["outside"].rpps, "follow_up_mode": "intermittent"})
    assert response.status_code == 302
    search = reload(ald_search)
    assert search.accepted_professional_id == sector["outside"].pk
    assert search.follow_up_mode == MTSearch.FollowUpMode.INTERMITTENT


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"follow_up_mode": "shared"}, "Choisissez le médecin ou saisissez son RPPS."),
        ({"professional": "999999", "follow_up_mode": "shared"}, "Sélectionnez un choix valide"),
        ({"professional": "abc", "follow_up_mode": "shared"}, "Sélectionnez un choix valide"),
        ({"rpps": "12AB", "follow_up_mode": "shared"}, "11"),
        ({"rpps": "12345678901"}, "Choisissez la modalité du suivi."),
    ],
)
def test_a_bad_proposal_is_a_french_error(client, claire, ald_search, data, message):
    visited(ald_search, claire)
    client.force_login(claire)
    response = client.post(ipa_url(ald_search, propose=True), data)
    assert response.status_code == 200
    assert message in text(response)
    assert reload(ald_search).status == MTSearch.Status.OPEN


def test_a_proposal_before_the_visit_is_refused(client, claire, ald_search, sector):
    client.force_login(claire)
    response = client.post(
        ipa_url(ald_search, propose=True),
        {"professional": sector["pool_near"].pk, "follow_up_mode": "shared"},
    )
    assert response.status_code == 409
    assert "Enregistrez d'abord la visite d'évaluation de l'IPA." in text(response)


def test_the_ipa_page_reads_only_a_search_of_the_organisation(client, bruno, ald_search):
    client.force_login(bruno)
    assert client.get(ipa_url(ald_search)).status_code == 404
    assert client.post(ipa_url(ald_search, propose=True), {}).status_code == 404


# --- The hand-off file for the médiateur -------------------------------------------------------


@pytest.fixture
def asked_search(org_a, claire, sector):
    person = person_without_mt(
        org_a,
        birth_name="LAMBERT",
        first_names="Odile Marie",
        birth_date=datetime.date(1950, 5, 5),
        nir="255081416802538",
        address="12 rue des Lilas",
        postal_code="69200",
    )
    search = open_search(org_a, person, by=claire, languages=["ar"])
    sent = services.wave_send(search=search, by=claire)
    services.solicitation_decline(solicitation=sent[0], reason="full", note="Plus de place")
    services.call_record(
        search=search,
        by=claire,
        professional=sector["undeclared"],
        outcome=Call.Outcome.REFUSED,
        reason="too_far",
    )
    return search


def handoff_url(search) -> str:
    return reverse("matching:search-handoff", args=[search.pk])


def test_the_handoff_file_lists_the_person_and_every_doctor_asked(
    client, claire, asked_search, sector
):
    client.force_login(claire)
    response = client.get(handoff_url(asked_search))
    assert response.status_code == 200
    page = text(response)
    for expected in (
        "LAMBERT",
        "Odile Marie",
        "05/05/1950",
        "2 55 08 14 168 025 38",
        "12 rue des Lilas",
        "69200 Vénissieux",
        "Arabe",
        "Patientèle complète : Plus de place",
        "Domicile trop éloigné",
        sector["undeclared"].rpps,
        sector["pool_near"].rpps,
        "Téléphone",
        "Recherche ouverte.",
    ):
        assert expected in page, expected
    assert len(response.context["asked"]) == 3  # two e-mails, one call
    assert "css/matching-print.css" in page  # the print stylesheet
    assert "d-print-none" in page
    assert AuditEvent.objects.filter(
        action=Action.READ, object_id=str(asked_search.pk), person_id=asked_search.person_id
    ).exists()


def test_the_csv_lists_the_doctors_without_the_person(client, claire, asked_search, sector):
    client.force_login(claire)
    response = client.get(handoff_url(asked_search), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"recherche-mt-{asked_search.pk}-" in response["Content-Disposition"]
    body = response.content.decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].startswith("Date;Médecin;RPPS")
    assert len(lines) == 4
    assert sector["undeclared"].rpps in body
    assert "LAMBERT" not in body and "Lilas" not in body


def test_transmitting_moves_the_search_to_the_mediator_once(client, claire, asked_search):
    client.force_login(claire)
    response = client.post(handoff_url(asked_search))
    assert response.status_code == 302
    search = reload(asked_search)
    assert search.stage == MTSearch.Stage.MEDIATOR
    assert search.handed_off_at is not None
    page = text(client.get(handoff_url(search)))
    assert "passé au médiateur le" in page
    assert "Transmettre au médiateur</button>" not in page

    response = client.post(handoff_url(search))
    assert response.status_code == 409
    assert "cette action n'est plus possible" in text(response)


def test_a_file_handed_off_has_no_button(client, claire, asked_search):
    """Once sent to the médiateur: no button, the date is shown."""
    with scopes_disabled():
        MTSearch.objects.filter(pk=asked_search.pk).update(
            stage=MTSearch.Stage.MEDIATOR, handed_off_at=timezone.now()
        )
    client.force_login(claire)
    response = client.get(handoff_url(asked_search))
    assert response.context["can_hand_off"] is False


def test_the_job_readies_the_file_and_the_coordinator_sends_it(client, claire, asked_search):
    with scopes_disabled():
        MTSearch.objects.filter(pk=asked_search.pk).update(stage=MTSearch.Stage.MEDIATOR)
    client.force_login(claire)
    assert client.get(handoff_url(asked_search)).context["can_hand_off"] is True
    client.post(handoff_url(asked_search))
    with scopes_disabled():
        asked_search.refresh_from_db()
    assert asked_search.handed_off_at is not None
    assert client.post(handoff_url(asked_search)).status_code == 409


def test_the_handoff_file_is_for_the_team_only(client, manon, bruno, asked_search):
    client.force_login(manon)
    assert client.get(handoff_url(asked_search)).status_code == 403
    client.force_login(bruno)
    assert client.get(handoff_url(asked_search)).status_code == 404
    assert client.get(handoff_url(asked_search), {"format": "csv"}).status_code == 404


def test_a_gp_with_an_expired_declaration_stays_callable(client, claire, search, sector):
    """An expired "yes" is no longer a valid declaration: the GP is in the second group."""
    with scopes_disabled():
        availability = Availability.objects.get(professional=sector["expired"])
    assert availability.expires_on < timezone.localdate()
    client.force_login(claire)
    response = client.get(call_url(search))
    assert sector["expired"].pk in shown_ids(response, "others")


def test_the_ipa_section_can_be_included_as_is(rf, claire, ald_search):
    """The search's page includes ``matching/_ipa.html`` with the search only: a summary
    and a link to the IPA page, no form."""
    from django.template.loader import render_to_string

    html = render_to_string("matching/_ipa.html", {"search": ald_search})
    assert reverse("matching:search-ipa", args=[ald_search.pk]) in html
    assert "<form" not in html
    visited(ald_search, claire)
    html = render_to_string("matching/_ipa.html", {"search": reload(ald_search)})
    assert "Mme IPA" in html and "Proposer le dossier à un médecin" in html


def test_the_ipa_forms_of_a_search_no_longer_open_answer_409(client, claire, ald_search):
    services.search_close(search=ald_search, by=claire, reason="Déménagement")
    client.force_login(claire)
    response = client.get(ipa_url(ald_search))
    assert response.context["ipa_record_form"] is None
    response = client.post(
        ipa_url(ald_search), {"ipa_name": "IPA", "visit_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 409
    assert "cette action n'est plus possible" in text(response)
