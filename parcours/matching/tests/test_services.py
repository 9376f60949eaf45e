"""The services of the médecin traitant search, one behaviour per test: opening (its French
refusals and the priorities it reads from the record or the saisine), preferences with a
version check, waves, the GP's answers, the call round, the person's choice, the outcome
"médecin traitant déclaré" and the closure."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from parcours.audit.models import Action, AuditEvent
from parcours.directory.models import Availability
from parcours.matching import selectors, services
from parcours.matching.models import (
    Call,
    FollowUp,
    MTSearch,
    MTSearchEvent,
    Priority,
    Solicitation,
)
from parcours.matching.tests.matching_factories import (
    VENISSIEUX,
    open_search,
    person_without_mt,
    pool_gp,
    reload,
)
from parcours.people.models import C2S, Consent, MedecinTraitantStatus, Person
from parcours.people.tests.people_factories import ConsentFactory, PersonFactory
from parcours.saisines import services as saisine_services
from parcours.saisines.models import Decision
from parcours.saisines.models import Status as SaisineStatus
from parcours.saisines.tests.saisine_factories import SaisineFactory

pytestmark = pytest.mark.django_db

LAT, LON = VENISSIEUX
KM = 1 / 111.195
ADULT = datetime.date(1980, 5, 2)  # no age priority


@pytest.fixture(autouse=True)
def _clean_outbox():
    mail.outbox.clear()


def north(km: float) -> dict:
    return {"latitude": LAT + km * KM, "longitude": LON}


@pytest.fixture
def gps(org_a):
    """Four GPs of the pool, nearest first, each with his own e-mail."""
    return [pool_gp(org_a, **north(n + 1), email=f"dr{n + 1}@example.org") for n in range(4)]


def adult(organisation, **fields):
    return person_without_mt(organisation, birth_date=ADULT, **fields)


def events(search) -> list[str]:
    with scopes_disabled():
        return list(MTSearchEvent.objects.filter(search=search).values_list("kind", flat=True))


def audits(obj, action) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk)
        )
    )


def solicitations(search) -> list[Solicitation]:
    with scopes_disabled():
        return list(Solicitation.objects.filter(search=search).order_by("wave", "rank"))


def availability(gp) -> Availability:
    with scopes_disabled():
        return Availability.objects.get(professional=gp)


def accepted_search(org_a, claire, gps, **data):
    search = open_search(org_a, by=claire, **data)
    first, *_ = services.wave_send(search=search, by=claire)
    assert services.solicitation_accept(solicitation=first)
    mail.outbox.clear()
    return reload(search)


def refused_message(call) -> str:
    with pytest.raises(ValidationError) as raised:
        call()
    return " ".join(raised.value.messages)


# --- Opening ---------------------------------------------------------------------------------


def test_it_opens_a_search_from_the_persons_home(org_a, claire):
    person = adult(org_a)
    search = open_search(org_a, person, by=claire, max_distance_km=15)
    assert (search.status, search.stage, search.wave) == ("open", "waves", 0)
    home = person.commune
    assert (search.latitude, search.longitude) == (home.latitude, home.longitude)
    assert search.radius_km == 15 and search.opened_by == claire
    assert events(search) == [MTSearchEvent.Kind.OPENED]
    assert len(audits(search, Action.CREATE)) == 1


def test_it_needs_the_persons_commune(org_a, claire):
    person = adult(org_a, commune=None)
    message = refused_message(lambda: open_search(org_a, person, by=claire))
    assert "Indiquez d'abord la commune de la personne" in message


def test_it_needs_a_consent_to_the_search_or_the_coordination(org_a, claire):
    person = adult(org_a, consent=False)
    ConsentFactory(person=person, purpose=Consent.Purpose.ORIENTATION)  # another purpose
    message = refused_message(lambda: open_search(org_a, person, by=claire))
    assert "Le consentement de la personne à la recherche d'un médecin traitant" in message
    ConsentFactory(person=person, purpose=Consent.Purpose.MT_SEARCH)
    assert open_search(org_a, person, by=claire).status == MTSearch.Status.OPEN


def test_a_withdrawn_consent_does_not_count(org_a, claire):
    person = adult(org_a, consent=False)
    ConsentFactory(person=person, withdrawn_at=timezone.now())
    message = refused_message(lambda: open_search(org_a, person, by=claire))
    assert "consentement" in message


def test_it_refuses_a_merged_record(org_a, claire):
    kept = adult(org_a)
    merged = adult(org_a, merged_into=kept)
    message = refused_message(lambda: open_search(org_a, merged, by=claire))
    assert message == "Cette fiche a été fusionnée : ouvrez la fiche conservée."


def test_it_refuses_another_organisations_person(org_a, org_b, claire):
    theirs = adult(org_b)
    message = refused_message(lambda: open_search(org_a, theirs, by=claire))
    assert message == "Cette fiche n'appartient pas à votre organisation."
    with scopes_disabled():
        assert not MTSearch.objects.exists()


def test_it_refuses_another_organisations_saisine(org_a, org_b, claire):
    saisine = SaisineFactory(organisation=org_b)
    message = refused_message(lambda: open_search(org_a, adult(org_a), saisine=saisine))
    assert message == "Cette fiche n'appartient pas à votre organisation."


def test_a_second_running_search_for_the_person_is_refused(org_a, claire):
    person = adult(org_a)
    first = open_search(org_a, person, by=claire)
    message = refused_message(lambda: open_search(org_a, person, by=claire))
    assert message == "Une recherche de médecin traitant est déjà en cours pour cette personne."
    services.search_close(search=first, by=claire, reason="Déménagement.")
    assert open_search(org_a, person, by=claire).pk != first.pk


def test_bad_preferences_are_refused_in_french(org_a, claire):
    person = adult(org_a)
    with pytest.raises(ValidationError) as raised:
        open_search(org_a, person, by=claire, max_distance_km=500, priorities=["vip"])
    assert raised.value.message_dict == {
        "max_distance_km": ["La distance maximale va de 1 à 100 km."],
        "priorities": ["Priorité inconnue."],
    }


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, []),
        ({"ald": ["8"]}, [Priority.ALD]),
        ({"birth_date": datetime.date(1950, 1, 1)}, [Priority.AGE_70]),
        ({"c2s": C2S.FREE}, [Priority.C2S_AME]),
        ({"c2s": C2S.PAID}, [Priority.C2S_AME]),
        ({"ame": True}, [Priority.C2S_AME]),
        ({"lives_alone": True}, [Priority.ISOLATION]),
        (
            {"ald": ["30"], "birth_date": datetime.date(1940, 6, 1), "ame": True,
             "lives_alone": True},
            [Priority.ALD, Priority.AGE_70, Priority.C2S_AME, Priority.ISOLATION],
        ),
    ],
)  # fmt: skip
def test_priorities_default_from_the_persons_record(org_a, claire, fields, expected):
    fields.setdefault("birth_date", ADULT)
    person = person_without_mt(org_a, **fields)
    search = open_search(org_a, person, by=claire)
    assert search.priorities == [str(p) for p in expected]


def test_the_age_priority_starts_on_the_seventieth_birthday(org_a, claire):
    today = timezone.localdate()
    try:
        seventy = today.replace(year=today.year - 70)
    except ValueError:  # 29 February
        seventy = today.replace(year=today.year - 70, day=28)
    almost = seventy + datetime.timedelta(days=1)
    assert services.default_priorities(PersonFactory.build(birth_date=seventy, ald=[])) == [
        "age_70"
    ]
    assert services.default_priorities(PersonFactory.build(birth_date=almost, ald=[])) == []


def test_priorities_given_by_the_coordinator_win(org_a, claire):
    person = person_without_mt(org_a, ald=["8"], birth_date=ADULT)
    search = open_search(org_a, person, by=claire, priorities=["pregnancy"])
    assert search.priorities == ["pregnancy"]


def test_from_a_triaged_saisine_it_records_the_decision(org_a, claire):
    person = adult(org_a)
    saisine = SaisineFactory(organisation=org_a, person=person)
    saisine = saisine_services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=0)
    search = open_search(org_a, person, by=claire, saisine=saisine)
    assert search.saisine_id == saisine.pk and search.complex_situation is False
    saisine = reload(saisine)
    assert (saisine.status, saisine.decision) == (SaisineStatus.IN_PROGRESS, Decision.MT_SEARCH)


def test_a_received_saisine_keeps_its_state(org_a, claire):
    person = adult(org_a)
    saisine = SaisineFactory(organisation=org_a, person=person)
    open_search(org_a, person, by=claire, saisine=saisine)
    saisine = reload(saisine)
    assert (saisine.status, saisine.decision) == (SaisineStatus.RECEIVED, "")


def test_a_complex_saisine_makes_a_complex_situation(org_a, claire):
    person = adult(org_a)
    saisine = SaisineFactory(organisation=org_a, person=person)
    saisine_services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=2)
    search = open_search(org_a, person, by=claire, saisine=reload(saisine))
    assert search.complex_situation is True


# --- Preferences -----------------------------------------------------------------------------


def test_it_updates_preferences_and_the_radius(org_a, claire):
    search = open_search(org_a, adult(org_a), by=claire)
    search = services.search_update(
        search=search,
        by=claire,
        version=search.version,
        data={"max_distance_km": 25, "doctor_sex": "M", "languages": ["AR ", "ar"],
              "follow_up": FollowUp.CHRONIC},
    )  # fmt: skip
    assert (search.radius_km, search.max_distance_km, search.doctor_sex) == (25, 25, "M")
    assert search.languages == ["ar"] and search.follow_up == FollowUp.CHRONIC
    assert search.version == 2
    [audit] = audits(search, Action.UPDATE)
    assert audit.details == {"fields": ["doctor_sex", "follow_up", "languages", "max_distance_km"]}


def test_a_stale_version_is_refused_and_changes_nothing(org_a, claire, hugo):
    search = open_search(org_a, adult(org_a), by=claire)
    services.search_update(search=search, by=claire, version=1, data={"doctor_sex": "F"})
    with pytest.raises(ValidationError) as raised:
        services.search_update(search=search, by=hugo, version=1, data={"doctor_sex": "M"})
    assert raised.value.code == "version"
    assert "a changé pendant que vous la modifiiez" in raised.value.message
    assert reload(search).doctor_sex == "F"


def test_a_closed_search_cannot_be_updated(org_a, claire):
    search = open_search(org_a, adult(org_a), by=claire)
    services.search_close(search=search, by=claire, reason="La personne a déménagé.")
    search = reload(search)
    with pytest.raises(services.SearchRefused):
        services.search_update(search=search, by=claire, version=search.version, data={})


# --- Waves -----------------------------------------------------------------------------------


def test_a_wave_asks_the_best_candidates_with_an_e_mail(org_a, claire, gps, settings):
    settings.MATCHING_WAVE_SIZE = 2
    no_email = pool_gp(org_a, **north(0.5), email="")
    search = open_search(org_a, adult(org_a), by=claire)

    sent = services.wave_send(search=search, by=claire)

    assert [s.professional_id for s in sent] == [gps[0].pk, gps[1].pk]
    assert no_email.pk not in {s.professional_id for s in sent}
    first = sent[0]
    assert (first.wave, first.rank, first.email, first.status) == (1, 1, "dr1@example.org", "sent")
    assert first.distance_km == pytest.approx(1.0, abs=0.01)
    assert first.score == round(sum(line["points"] for line in first.explanation), 1)
    assert {line["code"] for line in first.explanation} >= {"distance", "accepting", "capacity"}
    assert sorted(m.to[0] for m in mail.outbox) == ["dr1@example.org", "dr2@example.org"]
    search = reload(search)
    assert search.wave == 1
    assert events(search)[-1] == MTSearchEvent.Kind.WAVE
    [audit] = audits(search, Action.CREATE)[-1:]
    assert audit.details == {"wave": 1, "professionals": [gps[0].pk, gps[1].pk]}


def test_a_gp_is_never_asked_twice_in_a_search(org_a, claire, gps, settings):
    settings.MATCHING_WAVE_SIZE = 3
    search = open_search(org_a, adult(org_a), by=claire)
    first = services.wave_send(search=search, by=claire)
    second = services.wave_send(search=search, by=claire)
    third = services.wave_send(search=search, by=claire)
    assert [s.professional_id for s in first] == [gp.pk for gp in gps[:3]]
    assert [(s.professional_id, s.wave, s.rank) for s in second] == [(gps[3].pk, 2, 1)]
    assert third == []
    assert reload(search).wave == 2  # an empty wave does not count
    with scopes_disabled():
        assert MTSearchEvent.objects.filter(search=search).last().text == (
            "Aucun médecin du vivier à solliciter par e-mail dans le rayon de 10 km."
        )
    assert len(mail.outbox) == 4


def test_a_wave_respects_the_radius(org_a, claire):
    pool_gp(org_a, **north(12))
    search = open_search(org_a, adult(org_a), by=claire, max_distance_km=10)
    assert services.wave_send(search=search, by=claire) == []


def test_no_wave_once_a_gp_accepted(org_a, claire, gps):
    search = accepted_search(org_a, claire, gps)
    with pytest.raises(services.SearchRefused):
        services.wave_send(search=search, by=claire)


# --- The GP's answers --------------------------------------------------------------------------


def test_the_first_acceptance_wins_and_the_others_are_withdrawn(org_a, claire, gps):
    search = open_search(org_a, adult(org_a), by=claire)
    sent = services.wave_send(search=search, by=claire)
    mail.outbox.clear()
    winner, *others = sent

    assert services.solicitation_accept(solicitation=others[1]) is True
    assert services.solicitation_accept(solicitation=winner) is False

    search = reload(search)
    assert search.status == MTSearch.Status.ACCEPTED
    assert search.accepted_professional_id == others[1].professional_id
    assert search.accepted_via == MTSearch.Via.EMAIL and search.accepted_at is not None
    statuses = {s.professional_id: s.status for s in solicitations(search)}
    assert statuses.pop(others[1].professional_id) == Solicitation.Status.ACCEPTED
    assert set(statuses.values()) == {Solicitation.Status.WITHDRAWN}
    assert events(search).count(MTSearchEvent.Kind.ACCEPTED) == 1
    subjects = sorted(m.subject for m in mail.outbox)
    assert sum("patient déjà placé, merci" in s for s in subjects) == len(sent) - 1
    assert [m.to for m in mail.outbox if "un médecin a accepté" in m.subject] == [[claire.email]]


def test_the_winner_accepting_twice_keeps_the_search(org_a, claire, gps):
    search = open_search(org_a, adult(org_a), by=claire)
    first, *_ = services.wave_send(search=search, by=claire)
    assert services.solicitation_accept(solicitation=first) is True
    assert services.solicitation_accept(solicitation=first) is True
    assert events(search).count(MTSearchEvent.Kind.ACCEPTED) == 1


def test_a_decline_keeps_its_reason(org_a, claire, gps):
    search = open_search(org_a, adult(org_a), by=claire)
    first, *_ = services.wave_send(search=search, by=claire)
    declined = services.solicitation_decline(solicitation=first, reason="full")
    assert (declined.status, declined.decline_reason) == ("declined", "full")
    assert declined.answered_at is not None
    assert events(search)[-1] == MTSearchEvent.Kind.ANSWER
    assert reload(search).status == MTSearch.Status.OPEN


@pytest.mark.parametrize(
    ("reason", "note", "field", "message"),
    [
        ("", "", "reason", "Choisissez un motif."),
        ("vacances", "", "reason", "Choisissez un motif."),
        ("other", "   ", "note", "Précisez le motif."),
    ],
)
def test_a_decline_needs_a_known_reason_and_other_a_note(
    org_a, claire, gps, reason, note, field, message
):
    search = open_search(org_a, adult(org_a), by=claire)
    first, *_ = services.wave_send(search=search, by=claire)
    with pytest.raises(ValidationError) as raised:
        services.solicitation_decline(solicitation=first, reason=reason, note=note)
    assert raised.value.message_dict == {field: [message]}
    assert reload(first).status == Solicitation.Status.SENT


def test_other_with_a_note_is_accepted(org_a, claire, gps):
    search = open_search(org_a, adult(org_a), by=claire)
    first, *_ = services.wave_send(search=search, by=claire)
    declined = services.solicitation_decline(
        solicitation=first, reason="other", note="  En congé maternité.  "
    )
    assert (declined.decline_reason, declined.decline_note) == ("other", "En congé maternité.")


def test_an_answered_request_cannot_be_declined(org_a, claire, gps):
    search = open_search(org_a, adult(org_a), by=claire)
    first, second, *_ = services.wave_send(search=search, by=claire)
    services.solicitation_accept(solicitation=first)
    with pytest.raises(services.SearchRefused) as raised:
        services.solicitation_decline(solicitation=second, reason="full")
    assert "déjà reçu une réponse ou a été retirée" in raised.value.message
    assert reload(second).status == Solicitation.Status.WITHDRAWN


# --- The call round -----------------------------------------------------------------------------


def test_an_acceptance_by_phone_takes_the_search(org_a, claire, gps):
    search = open_search(org_a, adult(org_a), by=claire)
    first, second, *_ = services.wave_send(search=search, by=claire)
    mail.outbox.clear()

    call = services.call_record(
        search=search, by=claire, professional=gps[1], outcome="accepted", phone="0472000000"
    )

    search = reload(search)
    assert (search.status, search.accepted_professional_id) == ("accepted", gps[1].pk)
    assert search.accepted_via == MTSearch.Via.PHONE
    assert (call.outcome, call.by, call.phone) == ("accepted", claire, "0472000000")
    assert reload(second).status == Solicitation.Status.ACCEPTED
    assert reload(first).status == Solicitation.Status.WITHDRAWN
    assert services.solicitation_accept(solicitation=reload(first)) is False
    assert events(search).count(MTSearchEvent.Kind.ACCEPTED) == 1


def test_a_phone_acceptance_after_a_link_acceptance_is_refused(org_a, claire, gps):
    search = accepted_search(org_a, claire, gps)
    with pytest.raises(services.SearchRefused):
        services.call_record(search=search, by=claire, professional=gps[2], outcome="accepted")
    assert reload(search).accepted_professional_id == gps[0].pk
    with scopes_disabled():
        assert not Call.objects.exists()


def test_a_refusal_on_the_phone_needs_a_reason(org_a, claire, gps):
    search = open_search(org_a, adult(org_a), by=claire)
    with pytest.raises(ValidationError) as raised:
        services.call_record(search=search, by=claire, professional=gps[0], outcome="refused")
    assert raised.value.message_dict == {"reason": ["Choisissez un motif."]}
    with pytest.raises(ValidationError):
        services.call_record(search=search, by=claire, professional=gps[0], outcome="maybe")


def test_a_refusal_on_the_phone_declines_the_request_and_the_gp_is_not_asked_again(
    org_a, claire, gps, settings
):
    settings.MATCHING_WAVE_SIZE = 1
    search = open_search(org_a, adult(org_a), by=claire)
    [first] = services.wave_send(search=search, by=claire)
    services.call_record(
        search=search, by=claire, professional=gps[1], outcome="refused", reason="too_far"
    )
    services.call_record(
        search=search, by=claire, professional=gps[0], outcome="refused", reason="full"
    )
    first = reload(first)
    assert (first.status, first.decline_reason) == ("declined", "full")
    [second] = services.wave_send(search=search, by=claire)
    assert second.professional_id == gps[2].pk  # gps[1] said no on the phone
    assert events(search).count(MTSearchEvent.Kind.CALL) == 2


def test_no_answer_is_recorded_without_a_reason(org_a, claire, gps):
    search = open_search(org_a, adult(org_a), by=claire)
    call = services.call_record(
        search=search, by=claire, professional=gps[0], outcome="no_answer", reason="full"
    )
    assert (call.outcome, call.reason) == ("no_answer", "")
    assert reload(search).status == MTSearch.Status.OPEN


# --- The person's choice ------------------------------------------------------------------------


def test_the_person_accepting_the_gp_makes_the_search_found(org_a, claire, gps):
    person = adult(org_a)
    saisine = SaisineFactory(organisation=org_a, person=person, requester_email="as@example.org")
    saisine = saisine_services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=0)
    search = open_search(org_a, person, by=claire, saisine=saisine)
    first, *_ = services.wave_send(search=search, by=claire)
    services.solicitation_accept(solicitation=first)
    mail.outbox.clear()

    search = services.person_choice_record(search=reload(search), by=claire, choice="accepted")

    assert (search.status, search.person_choice) == ("found", "accepted")
    assert search.person_choice_at is not None
    assert reload(saisine).mt_found_at is not None
    [message] = mail.outbox
    assert message.to == ["as@example.org"]
    assert message.subject == "Votre demande : un médecin traitant a été trouvé"
    assert events(search)[-1] == MTSearchEvent.Kind.CHOICE


def test_the_person_refusing_the_gp_reopens_the_search_without_him(org_a, claire, gps, settings):
    settings.MATCHING_WAVE_SIZE = 1
    search = accepted_search(org_a, claire, gps)

    search = services.person_choice_record(
        search=search, by=claire, choice="refused", reason="Préfère un cabinet près du travail."
    )

    assert search.status == MTSearch.Status.OPEN
    assert (search.accepted_professional_id, search.accepted_via) == (None, "")
    with scopes_disabled():
        last = MTSearchEvent.objects.filter(search=search).last()
    assert last.text.endswith("Préfère un cabinet près du travail.")
    [next_one] = services.wave_send(search=search, by=claire)
    assert next_one.professional_id == gps[1].pk
    with scope(organisation=org_a):
        assert gps[0].pk not in {c.professional_id for c in services.search_ranking(search)}


def test_a_gp_accepted_on_the_phone_and_refused_by_the_person_is_not_asked_again(
    org_a, claire, gps, settings
):
    settings.MATCHING_WAVE_SIZE = 1
    search = open_search(org_a, adult(org_a), by=claire)
    services.call_record(search=search, by=claire, professional=gps[0], outcome="accepted")
    services.person_choice_record(
        search=reload(search), by=claire, choice="refused", reason="Trop loin."
    )
    [asked] = services.wave_send(search=reload(search), by=claire)
    assert asked.professional_id == gps[1].pk


def test_a_refusal_by_the_person_needs_a_reason(org_a, claire, gps):
    search = accepted_search(org_a, claire, gps)
    with pytest.raises(ValidationError) as raised:
        services.person_choice_record(search=search, by=claire, choice="refused", reason=" ")
    assert raised.value.message_dict == {
        "reason": ["Indiquez pourquoi la personne refuse ce médecin."]
    }
    with pytest.raises(ValidationError):
        services.person_choice_record(search=search, by=claire, choice="peut-être")
    assert reload(search).status == MTSearch.Status.ACCEPTED


def test_no_choice_before_a_gp_accepted(org_a, claire, gps):
    search = open_search(org_a, adult(org_a), by=claire)
    with pytest.raises(services.SearchRefused):
        services.person_choice_record(search=search, by=claire, choice="accepted")


# --- The outcome: médecin traitant déclaré ---------------------------------------------------


def found_search(org_a, claire, gps):
    search = accepted_search(org_a, claire, gps)
    return services.person_choice_record(search=search, by=claire, choice="accepted")


def test_the_declaration_sets_the_persons_mt_and_takes_one_place(org_a, claire, gps):
    search = found_search(org_a, claire, gps)
    today = timezone.localdate()

    search = services.mt_declared(search=search, by=claire, declared_on=today)

    assert (search.status, search.declared_on) == ("declared", today)
    assert search.closed_at is not None
    with scopes_disabled():
        person = Person.objects.get(pk=search.person_id)
    assert person.medecin_traitant_id == gps[0].pk
    assert person.medecin_traitant_status == MedecinTraitantStatus.KNOWN
    assert availability(gps[0]).capacity == 4
    assert availability(gps[1]).capacity == 5
    assert events(search)[-1] == MTSearchEvent.Kind.DECLARED


@pytest.mark.parametrize(("before", "after"), [(1, 0), (0, 0), (None, None)])
def test_the_capacity_never_goes_below_zero(org_a, claire, before, after):
    gp = pool_gp(org_a, **north(1), capacity=5)
    search = open_search(org_a, adult(org_a), by=claire)
    services.call_record(search=search, by=claire, professional=gp, outcome="accepted")
    with scopes_disabled():
        Availability.objects.filter(professional=gp).update(capacity=before)
    services.person_choice_record(search=reload(search), by=claire, choice="accepted")
    services.mt_declared(search=reload(search), by=claire, declared_on=timezone.localdate())
    assert availability(gp).capacity == after


def test_the_declaration_date_is_not_in_the_future_nor_before_the_search(org_a, claire, gps):
    search = found_search(org_a, claire, gps)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as raised:
        services.mt_declared(search=search, by=claire, declared_on=tomorrow)
    assert raised.value.message_dict == {
        "declared_on": ["La date de déclaration ne peut pas être future."]
    }
    with pytest.raises(ValidationError) as raised:
        services.mt_declared(search=search, by=claire, declared_on=None)
    last_year = timezone.localdate() - datetime.timedelta(days=365)
    with pytest.raises(ValidationError) as raised:
        services.mt_declared(search=search, by=claire, declared_on=last_year)
    assert "précéder l'ouverture" in raised.value.message_dict["declared_on"][0]
    assert reload(search).status == MTSearch.Status.FOUND
    assert availability(gps[0]).capacity == 5


def test_no_declaration_before_the_person_chose(org_a, claire, gps):
    search = accepted_search(org_a, claire, gps)
    with pytest.raises(services.SearchRefused):
        services.mt_declared(search=search, by=claire, declared_on=timezone.localdate())


# --- Closing ---------------------------------------------------------------------------------


def test_closing_withdraws_the_pending_requests_and_tells_the_gps(org_a, claire, gps, settings):
    settings.MATCHING_WAVE_SIZE = 3
    search = open_search(org_a, adult(org_a), by=claire)
    first, second, third = services.wave_send(search=search, by=claire)
    services.solicitation_decline(solicitation=first, reason="full")
    mail.outbox.clear()

    search = services.search_close(search=search, by=claire, reason="  La personne a déménagé. ")

    assert (search.status, search.close_reason) == ("closed", "La personne a déménagé.")
    assert search.closed_at is not None
    assert [s.status for s in solicitations(search)] == ["declined", "withdrawn", "withdrawn"]
    assert sorted(m.to[0] for m in mail.outbox) == sorted([second.email, third.email])
    assert all("demande retirée, merci" in m.subject for m in mail.outbox)
    assert events(search)[-1] == MTSearchEvent.Kind.CLOSED


def test_closing_needs_a_reason_and_a_running_search(org_a, claire, gps):
    search = open_search(org_a, adult(org_a), by=claire)
    with pytest.raises(ValidationError) as raised:
        services.search_close(search=search, by=claire, reason="  ")
    assert raised.value.message_dict == {"reason": ["Indiquez pourquoi la recherche s'arrête."]}
    services.search_close(search=search, by=claire, reason="Déménagement.")
    with pytest.raises(services.SearchRefused) as raised:
        services.search_close(search=search, by=claire, reason="Encore.")
    assert "close sans médecin traitant" in raised.value.message


def test_a_gp_proposed_by_the_ipa_and_refused_by_the_person_is_not_asked_again(
    org_a, claire, gps, settings
):
    settings.MATCHING_WAVE_SIZE = 1
    search = open_search(org_a, adult(org_a, ald=["8"]), by=claire)
    services.ipa_record(
        search=search,
        by=claire,
        ipa_name="Isabelle IPA",
        visit_on=datetime.date.today(),
        evaluation="Évaluation faite.",
    )
    services.ipa_propose(
        search=reload(search), by=claire, professional=gps[0], follow_up_mode="shared"
    )
    services.person_choice_record(
        search=reload(search), by=claire, choice="refused", reason="Ne lui convient pas."
    )
    search = reload(search)
    assert search.refused_professionals == [gps[0].pk]
    assert search.follow_up_mode == ""
    [asked] = services.wave_send(search=search, by=claire)
    assert asked.professional_id == gps[1].pk
    with scope(organisation=org_a):
        called = {line.candidate.professional_id for line in selectors.call_round(search)}
    assert gps[0].pk not in called
