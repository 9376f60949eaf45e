"""Escalation without anyone clicking, tested with a moved clock.

The job (``services.searches_escalate_due(now=...)``, run hourly by the scheduler) moves a
search without an acceptance: next wave after ``MATCHING_WAVE_HOURS`` → call round after
``MATCHING_WAVES`` waves → wider radius (× ``MATCHING_WIDER_FACTOR``, a wave beyond the
first radius) after ``MATCHING_CALL_ROUND_DAYS`` → IPA route (ALD / complex) or the CPAM
médiateur after ``MATCHING_WIDER_DAYS`` → médiateur after ``MATCHING_IPA_DAYS``. Links are
marked expired after ``MATCHING_LINK_DAYS``. Running it twice at one moment moves once; an
accepted search never moves.
"""

import datetime
import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_scopes import scopes_disabled

from parcours.core.scheduler import PERIODIC_JOBS, jobs_enqueue_due
from parcours.matching import services
from parcours.matching.models import MTSearch, MTSearchEvent, Solicitation
from parcours.matching.tests.matching_factories import (
    VENISSIEUX,
    open_search,
    person_without_mt,
    pool_gp,
    reload,
)

pytestmark = pytest.mark.django_db

Stage = MTSearch.Stage
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
KM = 1 / 111.195  # degrees of latitude per km


@pytest.fixture(autouse=True)
def _delays(settings):
    settings.MATCHING_WAVE_SIZE = 2
    settings.MATCHING_WAVE_HOURS = 72
    settings.MATCHING_WAVES = 2
    settings.MATCHING_CALL_ROUND_DAYS = 7
    settings.MATCHING_WIDER_FACTOR = 2
    settings.MATCHING_WIDER_DAYS = 7
    settings.MATCHING_IPA_DAYS = 30
    settings.MATCHING_LINK_DAYS = 7
    mail.outbox.clear()


def north(km: float) -> dict:
    return {"latitude": VENISSIEUX[0] + km * KM, "longitude": VENISSIEUX[1]}


@pytest.fixture
def gps(org_a):
    """Four pool GPs within 10 km (nearest first) and one at 15 km."""
    near = [pool_gp(org_a, email=f"proche{n}@example.org", **north(1 + n)) for n in range(4)]
    far = pool_gp(org_a, email="loin@example.org", **north(15))
    return near, far


def asked(search, wave: int) -> set[int]:
    with scopes_disabled():
        return set(
            Solicitation.objects.filter(search=search, wave=wave).values_list(
                "professional_id", flat=True
            )
        )


def stage_events(search) -> list[str]:
    with scopes_disabled():
        return list(
            MTSearchEvent.objects.filter(search=search, kind=MTSearchEvent.Kind.STAGE).values_list(
                "text", flat=True
            )
        )


def escalate(at) -> dict:
    counts = services.searches_escalate_due(now=at)
    return {key: value for key, value in counts.items() if value}


def test_it_escalates_stage_by_stage_with_the_clock(org_a, claire, gps):
    near, far = gps
    search = open_search(org_a, by=claire)
    start = timezone.now()
    services.wave_send(search=search, by=claire, now=start)
    assert asked(search, 1) == {near[0].pk, near[1].pk}

    # Before MATCHING_WAVE_HOURS nothing moves.
    assert escalate(start + 71 * HOUR) == {}
    assert reload(search).wave == 1

    # No answer after 72 h: the next wave asks the two GPs not asked yet.
    mail.outbox.clear()
    second = start + 72 * HOUR
    assert escalate(second) == {"wave": 1}
    search = reload(search)
    assert (search.stage, search.wave, search.stage_started_at) == (Stage.WAVES, 2, second)
    assert asked(search, 2) == {near[2].pk, near[3].pk}
    assert sorted(m.to[0] for m in mail.outbox) == ["proche2@example.org", "proche3@example.org"]

    # After MATCHING_WAVES waves: the call round.
    call_round = second + 72 * HOUR
    assert escalate(call_round - HOUR) == {}
    assert escalate(call_round) == {"call_round": 1}
    search = reload(search)
    assert (search.stage, search.stage_started_at) == (Stage.CALL_ROUND, call_round)

    # The first wave's links expire MATCHING_LINK_DAYS after they were sent.
    assert escalate(start + 7 * DAY) == {}
    assert escalate(start + 7 * DAY + HOUR) == {"expired": 2}
    with scopes_disabled():
        statuses = dict(Solicitation.objects.filter(search=search).values_list("wave", "status"))
    assert statuses == {1: Solicitation.Status.EXPIRED, 2: Solicitation.Status.SENT}

    # A week of calls without a GP: the radius doubles, a wave goes beyond the first radius.
    mail.outbox.clear()
    wider = call_round + 7 * DAY
    assert escalate(wider - HOUR) == {"expired": 2}  # the second wave's links
    assert escalate(wider) == {"wider": 1}
    search = reload(search)
    assert (search.stage, search.radius_km, search.wave) == (Stage.WIDER, 20, 3)
    assert asked(search, 3) == {far.pk}
    assert [m.to[0] for m in mail.outbox] == ["loin@example.org"]

    # Still nobody, no ALD, not complex: the CPAM médiateur.
    mediator = wider + 7 * DAY
    assert escalate(mediator - HOUR) == {}
    assert escalate(mediator) == {"mediator": 1}
    search = reload(search)
    assert search.stage == Stage.MEDIATOR
    assert search.handed_off_at is None  # ready; the coordinator sends it (hand-off page)
    assert search.status == MTSearch.Status.OPEN

    # The médiateur is the last stage: nothing moves any more.
    assert escalate(mediator + 365 * DAY) == {"expired": 1}  # the wider wave's link
    assert len(stage_events(search)) == 3
    assert "20 km" in stage_events(search)[1]


def test_an_ald_person_takes_the_ipa_route_then_the_mediator(org_a, claire, gps):
    person = person_without_mt(org_a, ald=["8"])
    search = open_search(org_a, person, by=claire)
    assert services.ipa_eligible(search)
    start = timezone.now()
    services.wave_send(search=search, by=claire, now=start)
    moments = [start + 72 * HOUR * n for n in (1, 2)]
    moments += [moments[-1] + 7 * DAY, moments[-1] + 14 * DAY]
    assert [escalate(at).keys() - {"expired"} for at in moments] == [
        {"wave"},
        {"call_round"},
        {"wider"},
        {"ipa"},
    ]
    search = reload(search)
    assert search.stage == Stage.IPA
    assert search.handed_off_at is None

    assert escalate(moments[-1] + 29 * DAY).keys() <= {"expired"}
    assert escalate(moments[-1] + 30 * DAY) == {"mediator": 1}
    assert reload(search).stage == Stage.MEDIATOR


def test_a_complex_situation_takes_the_ipa_route(org_a, claire, gps):
    search = open_search(org_a, by=claire, complex_situation=True)
    with scopes_disabled():
        MTSearch.objects.filter(pk=search.pk).update(stage=Stage.WIDER)
    search = reload(search)
    assert escalate(search.stage_started_at + 7 * DAY) == {"ipa": 1}


def test_running_twice_at_the_same_moment_moves_once(org_a, claire, gps):
    search = open_search(org_a, by=claire)
    start = timezone.now()
    services.wave_send(search=search, by=claire, now=start)
    at = start + 72 * HOUR
    assert escalate(at) == {"wave": 1}
    assert escalate(at) == {}
    search = reload(search)
    assert search.wave == 2
    with scopes_disabled():
        assert Solicitation.objects.filter(search=search).count() == 4
        waves = MTSearchEvent.objects.filter(search=search, kind=MTSearchEvent.Kind.WAVE)
        assert waves.count() == 2

    at += 72 * HOUR
    assert escalate(at) == {"call_round": 1}
    assert escalate(at) == {}
    assert len(stage_events(search)) == 1


def test_an_accepted_search_never_moves(org_a, claire, gps):
    search = open_search(org_a, by=claire)
    start = timezone.now()
    first = services.wave_send(search=search, by=claire, now=start)[0]
    assert services.solicitation_accept(solicitation=first) is True
    for days in (3, 6, 13, 20, 50, 400):
        assert escalate(start + days * DAY).keys() <= {"expired"}
    search = reload(search)
    assert (search.status, search.stage, search.wave) == (MTSearch.Status.ACCEPTED, Stage.WAVES, 1)
    assert stage_events(search) == []


def test_a_closed_or_found_search_never_moves(org_a, claire, gps):
    closed = open_search(org_a, by=claire)
    services.search_close(search=closed, by=claire, reason="Déménagement")
    assert escalate(timezone.now() + 400 * DAY) == {}
    assert reload(closed).stage == Stage.WAVES


def test_a_refused_gp_puts_the_search_back_on_the_clock(org_a, claire, gps):
    """The person refuses the GP who accepted: the search runs again from that moment."""
    search = open_search(org_a, by=claire)
    start = timezone.now()
    first = services.wave_send(search=search, by=claire, now=start)[0]
    services.solicitation_accept(solicitation=first)
    services.person_choice_record(
        search=search, by=claire, choice=MTSearch.Choice.REFUSED, reason="Trop loin"
    )
    search = reload(search)
    assert search.status == MTSearch.Status.OPEN
    restarted = search.stage_started_at
    assert escalate(restarted + 71 * HOUR).keys() <= {"expired"}
    assert escalate(restarted + 72 * HOUR) == {"wave": 1}
    assert first.professional_id not in asked(search, 2)


def test_expired_links_are_marked_without_answer(org_a, claire, gps):
    search = open_search(org_a, by=claire)
    start = timezone.now()
    sent = services.wave_send(search=search, by=claire, now=start)
    services.solicitation_decline(solicitation=sent[1], reason="full")
    assert services.solicitations_expire(start + 7 * DAY) == 0
    assert services.solicitations_expire(start + 7 * DAY + HOUR) == 1
    assert reload(sent[0]).status == Solicitation.Status.EXPIRED
    assert reload(sent[1]).status == Solicitation.Status.DECLINED
    assert services.solicitations_expire(start + 30 * DAY) == 0


def test_a_search_without_candidates_goes_to_the_call_round(org_a, claire):
    """No pool GP in the radius: the waves end at once and the phone takes over."""
    search = open_search(org_a, by=claire)
    start = search.stage_started_at
    assert services.wave_send(search=search, by=claire, now=start) == []
    assert escalate(start + 72 * HOUR) == {"call_round": 1}
    assert reload(search).stage == Stage.CALL_ROUND


def test_the_scheduler_entry_runs_the_escalation(org_a, claire, gps):
    """The hourly job (immediate task backend in tests) escalates what is due now."""
    search = open_search(org_a, by=claire)
    services.wave_send(search=search, by=claire, now=timezone.now() - 73 * HOUR)
    job = [job for job in PERIODIC_JOBS if job.name == "matching_escalation"]
    assert len(job) == 1

    assert jobs_enqueue_due(jobs=job) == ["matching_escalation"]

    search = reload(search)
    assert search.wave == 2
    assert len(asked(search, 2)) == 2
    assert jobs_enqueue_due(jobs=job) == []  # once per slot


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_racing_job_runs_send_one_wave(org_a, claire, gps):
    """Two workers run the job at the same moment: one wave, one move."""
    search = open_search(org_a, by=claire)
    start = timezone.now()
    services.wave_send(search=search, by=claire, now=start)
    racers = 4
    barrier = threading.Barrier(racers)
    errors: list[BaseException] = []

    def run():
        try:
            barrier.wait()
            services.searches_escalate_due(now=start + 72 * HOUR)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    search = reload(search)
    assert search.wave == 2
    with scopes_disabled():
        assert Solicitation.objects.filter(search=search).count() == 4
        assert MTSearchEvent.objects.filter(search=search, kind="wave").count() == 2
