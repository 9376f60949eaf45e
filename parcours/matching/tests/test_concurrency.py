"""First acceptance wins, under real concurrency (PostgreSQL): GPs accepting the same search
at the same moment, each from a connection of its own, leave exactly one winner and a
consistent state; so does a phone acceptance racing a link acceptance.

Checked to fail (then restored): without the status conditions of ``services._take`` and
of the solicitation's update in ``solicitation_accept``, all six racers "win" (six ACCEPTED
events) and both tests fail; without the row lock ``solicitation_accept`` takes on the
search first, the racers deadlock (PostgreSQL aborts five of them) and both tests fail.
"""

import threading

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from parcours.matching import services
from parcours.matching.models import Call, MTSearch, MTSearchEvent, Solicitation
from parcours.matching.tests.matching_factories import VENISSIEUX, open_search, pool_gp

RACERS = 6
ROUNDS = 4

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises writers, so nothing would race",
    ),
    pytest.mark.django_db(transaction=True),
]


def race(targets) -> tuple[dict, list[BaseException]]:
    """Run each target in a thread of its own, all released at once; their results by index."""
    start = threading.Barrier(len(targets))
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def racer(n, target):
        try:
            start.wait()
            results[n] = target()
        except BaseException as error:  # noqa: BLE001 - sorted by the caller's assertions
            errors.append(error)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=racer, args=item) for item in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.fixture
def gps(org_a):
    lat, lon = VENISSIEUX
    return [
        pool_gp(org_a, latitude=lat + n / 500, longitude=lon, email=f"dr{n}@example.org")
        for n in range(RACERS)
    ]


def fresh(solicitation) -> Solicitation:
    """The solicitation as a request of the link view reads it (its own objects)."""
    with scopes_disabled():
        return Solicitation.objects.select_related(
            "organisation", "search__organisation", "professional"
        ).get(pk=solicitation.pk)


def state(search):
    with scopes_disabled():
        search = MTSearch.objects.get(pk=search.pk)
        statuses = dict(
            Solicitation.objects.filter(search=search).values_list("professional_id", "status")
        )
        accepted_events = MTSearchEvent.objects.filter(
            search=search, kind=MTSearchEvent.Kind.ACCEPTED
        ).count()
    return search, statuses, accepted_events


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_simultaneous_link_acceptances_leave_exactly_one_winner(
    org_a, claire, gps, settings, round_number
):
    settings.MATCHING_WAVE_SIZE = RACERS
    search = open_search(org_a, by=claire)
    sent = services.wave_send(search=search, by=claire)
    assert len(sent) == RACERS

    results, errors = race(
        [lambda s=s: services.solicitation_accept(solicitation=fresh(s)) for s in sent]
    )

    assert errors == []
    winners = [sent[n].professional_id for n, won in results.items() if won is True]
    assert len(results) == RACERS and len(winners) == 1
    search, statuses, accepted_events = state(search)
    assert (search.status, search.accepted_professional_id) == ("accepted", winners[0])
    assert statuses.pop(winners[0]) == Solicitation.Status.ACCEPTED
    assert set(statuses.values()) == {Solicitation.Status.WITHDRAWN}
    assert accepted_events == 1


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_a_phone_acceptance_racing_a_link_acceptance_leaves_one_winner(
    org_a, claire, gps, settings, round_number
):
    settings.MATCHING_WAVE_SIZE = 2
    search = open_search(org_a, by=claire)
    by_link, _other = services.wave_send(search=search, by=claire)
    on_phone = gps[-1]  # not asked by e-mail: the coordinator reached him on the phone

    def link():
        return services.solicitation_accept(solicitation=fresh(by_link))

    def phone():
        with scopes_disabled():
            own = MTSearch.objects.select_related("organisation").get(pk=search.pk)
        services.call_record(search=own, by=claire, professional=on_phone, outcome="accepted")
        return True

    racers = [link, phone] if round_number % 2 else [phone, link]
    results, errors = race(racers)

    link_won = results.get(racers.index(link)) is True
    phone_won = results.get(racers.index(phone)) is True
    search, statuses, accepted_events = state(search)
    assert accepted_events == 1
    assert [link_won, phone_won].count(True) == 1
    if link_won:
        # the phone call was refused as a whole (French "no longer possible"), nothing recorded
        assert [type(e) for e in errors] == [services.SearchRefused]
        assert search.accepted_professional_id == by_link.professional_id
        assert search.accepted_via == MTSearch.Via.EMAIL
        with scopes_disabled():
            assert not Call.objects.filter(search=search).exists()
    else:
        assert errors == [] and results[racers.index(link)] is False
        assert search.accepted_professional_id == on_phone.pk
        assert search.accepted_via == MTSearch.Via.PHONE
        assert statuses[by_link.professional_id] == Solicitation.Status.WITHDRAWN
    assert search.status == MTSearch.Status.ACCEPTED
    assert Solicitation.Status.SENT not in statuses.values()
