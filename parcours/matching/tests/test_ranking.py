"""The ranking of the GP pool (ranking.py): who is in the pool, the radius, the nearest
practice situation, the points and their explanation, the fair rotation, the exclusions,
and a number of queries that does not grow with the candidates."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from parcours.directory.models import Availability
from parcours.directory.tests.directory_factories import PracticeSituationFactory
from parcours.matching import ranking, services
from parcours.matching.models import Solicitation
from parcours.matching.ranking import Candidate, Wanted
from parcours.matching.tests.matching_factories import VENISSIEUX, open_search, pool_gp

pytestmark = pytest.mark.django_db

LAT, LON = VENISSIEUX
KM = 1 / ranking.KM_PER_DEGREE  # one kilometre north, in degrees of latitude
TODAY = datetime.date.today()


def candidate(**fields) -> Candidate:
    values = {
        "professional_id": 1,
        "last_name": "Martin",
        "first_name": "Anne",
        "civility": "Docteur",
        "sex": "F",
        "languages": ["fr"],
        "distance_km": 2.5,
        "situation_id": 1,
        "place": "Cabinet médical",
        "commune": "Vénissieux",
        "email": "cabinet@example.org",
        "phone": "04 72 00 00 00",
        "accepting": Availability.Accepting.NOW,
        "capacity": 5,
        "home_visits": False,
        "age_groups": ["adults", "seniors"],
        "expires_on": TODAY + datetime.timedelta(days=90),
    }
    values.update(fields)
    return Candidate(**values)


def wanted(**fields) -> Wanted:
    return Wanted(**{"latitude": LAT, "longitude": LON, "radius_km": 10.0, **fields})


def lines(scored: Candidate) -> dict[str, dict]:
    return {line["code"]: line for line in scored.explanation}


def ranked(organisation, *, exclude=frozenset(), limit=None, email_only=False, **fields):
    with scope(organisation=organisation):
        return ranking.rank(
            organisation=organisation,
            wanted=wanted(**fields),
            exclude=exclude,
            limit=limit,
            email_only=email_only,
        )


def ids(candidates) -> list[int]:
    return [c.professional_id for c in candidates]


def north(km: float) -> dict:
    return {"latitude": LAT + km * KM, "longitude": LON}


def asked(organisation, gp, *, days_ago: float) -> Solicitation:
    """A request the organisation sent this GP for another person's search."""
    search = open_search(organisation)
    with scopes_disabled():
        return Solicitation.objects.create(
            organisation=organisation,
            search=search,
            professional=gp,
            wave=1,
            email="old@example.org",
            rank=1,
            score=50,
            sent_at=timezone.now() - datetime.timedelta(days=days_ago),
        )


# --- Scores and their explanation (pure arithmetic) -----------------------------------------


def test_it_gives_distance_points_falling_to_zero_at_the_edge():
    near = ranking.score(candidate(distance_km=2.5), wanted())
    edge = ranking.score(candidate(distance_km=10.0), wanted())
    assert lines(near)["distance"]["points"] == 30.0
    assert lines(near)["distance"]["detail"] == "2,5 km du domicile (rayon 10 km)"
    assert lines(edge)["distance"]["points"] == 0.0


def test_it_explains_the_radius_in_french_with_a_decimal_comma():
    scored = ranking.score(candidate(distance_km=1.25), wanted(radius_km=7.5))
    assert lines(scored)["distance"]["detail"] == "1,2 km du domicile (rayon 7,5 km)"


def test_it_gives_more_for_accepting_now_than_within_six_months():
    now = ranking.score(candidate(), wanted())
    later = ranking.score(candidate(accepting=Availability.Accepting.WITHIN_SIX_MONTHS), wanted())
    assert lines(now)["accepting"] == {
        "code": "accepting",
        "points": 15.0,
        "detail": "Accepte de nouveaux patients maintenant",
    }
    assert lines(later)["accepting"]["points"] == 5.0
    assert lines(later)["accepting"]["detail"] == "Accepte dans les 6 mois"
    assert now.score - later.score == 10.0


@pytest.mark.parametrize(
    ("capacity", "points", "detail"),
    [
        (1, 1.0, "1 place déclarée"),
        (4, 4.0, "4 places déclarées"),
        (25, 10.0, "25 places déclarées"),
        (None, 3.0, "Nombre de places non précisé"),
    ],
)
def test_it_gives_points_for_capacity_up_to_ten(capacity, points, detail):
    scored = ranking.score(candidate(capacity=capacity), wanted())
    assert lines(scored)["capacity"]["points"] == points
    assert lines(scored)["capacity"]["detail"] == detail


def test_the_score_is_the_sum_of_the_explained_points():
    scored = ranking.score(candidate(distance_km=5.0, capacity=2), wanted())
    assert scored.score == 20.0 + 15.0 + 2.0
    assert scored.score == round(sum(line["points"] for line in scored.explanation), 1)


def test_it_gives_points_for_the_wanted_sex_of_the_doctor():
    woman = ranking.score(candidate(sex="F"), wanted(doctor_sex="F"))
    man = ranking.score(candidate(sex="M"), wanted(doctor_sex="F"))
    assert lines(woman)["sex"] == {
        "code": "sex",
        "points": 10.0,
        "detail": "Sexe du médecin souhaité",
    }
    assert lines(man)["sex"]["points"] == 0
    assert lines(man)["sex"]["detail"] == "Sexe du médecin différent de celui souhaité"
    assert "sex" not in lines(ranking.score(candidate(), wanted()))


def test_it_gives_points_for_a_language_in_common():
    both = ranking.score(candidate(languages=["fr", "ar", "en"]), wanted(languages=("ar", "en")))
    none = ranking.score(candidate(languages=["fr"]), wanted(languages=("ar",)))
    assert lines(both)["languages"]["points"] == 10.0
    assert lines(both)["languages"]["detail"] == "Parle ar, en"
    assert lines(none)["languages"] == {
        "code": "languages",
        "points": 0,
        "detail": "Aucune langue souhaitée en commun",
    }
    assert "languages" not in lines(ranking.score(candidate(), wanted()))


def test_it_gives_points_for_home_visits_only_when_needed():
    visits = ranking.score(candidate(home_visits=True), wanted(home_visits=True))
    no_visits = ranking.score(candidate(home_visits=False), wanted(home_visits=True))
    not_needed = ranking.score(candidate(home_visits=True), wanted())
    assert lines(visits)["home_visits"]["points"] == 10.0
    assert lines(visits)["home_visits"]["detail"] == "Fait des visites à domicile"
    assert lines(no_visits)["home_visits"]["points"] == 0
    assert lines(no_visits)["home_visits"]["detail"] == "Ne déclare pas de visites à domicile"
    assert "home_visits" not in lines(not_needed)


def test_an_age_group_the_gp_did_not_declare_costs_fifteen():
    child = wanted(age_group="children")
    adults_only = ranking.score(candidate(age_groups=["adults"]), child)
    all_ages = ranking.score(candidate(age_groups=["children", "adults"]), child)
    undeclared = ranking.score(candidate(age_groups=[]), child)
    unknown_age = ranking.score(candidate(age_groups=["adults"]), wanted())
    assert lines(adults_only)["age_group"] == {
        "code": "age_group",
        "points": -15.0,
        "detail": "Tranche d'âge non déclarée par le médecin",
    }
    assert adults_only.score == all_ages.score - 15.0
    assert "age_group" not in lines(all_ages)
    assert "age_group" not in lines(undeclared)  # nothing declared: no penalty
    assert "age_group" not in lines(unknown_age)


@pytest.mark.parametrize(("requests", "points"), [(0, None), (1, -4.0), (3, -12.0), (9, -20.0)])
def test_recent_requests_cost_four_points_each_at_most_twenty(requests, points):
    scored = ranking.score(candidate(recent_requests=requests), wanted())
    if points is None:
        assert "fairness" not in lines(scored)
    else:
        assert lines(scored)["fairness"]["points"] == points
        assert lines(scored)["fairness"]["detail"] == (
            f"Déjà sollicité {requests} fois ces 90 derniers jours"
        )


@pytest.mark.parametrize(
    ("age", "group"), [(None, ""), (3, "children"), (15, "children"), (16, "adults"),
                       (69, "adults"), (70, "seniors"), (95, "seniors")],
)  # fmt: skip
def test_age_groups(age, group):
    assert ranking.age_group(age) == group


def test_distance_is_right_at_a_territory_scale():
    # Vénissieux → Lyon Part-Dieu: 7.3 km as the crow flies.
    assert ranking.distance_km(LAT, LON, 45.7605, 4.8594) == pytest.approx(7.3, abs=0.1)
    assert ranking.distance_km(LAT, LON, LAT + 10 * KM, LON) == pytest.approx(10.0, abs=1e-6)


# --- The pool --------------------------------------------------------------------------------


def test_the_pool_is_the_valid_declarations_with_capacity_left(org_a):
    valid = pool_gp(org_a)
    later = pool_gp(org_a, accepting=Availability.Accepting.WITHIN_SIX_MONTHS)
    unknown_capacity = pool_gp(org_a, capacity=None)
    last_day = pool_gp(org_a, expires_on=TODAY)
    pool_gp(org_a, expires_on=TODAY - datetime.timedelta(days=1))  # expired
    pool_gp(org_a, accepting=Availability.Accepting.NO)
    pool_gp(org_a, capacity=0)
    pool_gp(org_a, is_active=False)  # no longer practising
    pool_gp(org_a, profession_code="60", profession="Infirmier", savoir_faire_code="")
    pool_gp(org_a, savoir_faire_code="SM38", savoir_faire="Pédiatrie")

    found = ranked(org_a)

    assert set(ids(found)) == {valid.pk, later.pk, unknown_capacity.pk, last_day.pk}
    [no_number] = [c for c in found if c.professional_id == unknown_capacity.pk]
    assert no_number.capacity is None


def test_the_pool_is_the_organisations_own(org_a, org_b):
    mine = pool_gp(org_a)
    pool_gp(org_b)
    assert ids(ranked(org_a)) == [mine.pk]


def test_an_empty_pool_ranks_nobody(org_a):
    assert ranked(org_a) == []


# --- The radius and the nearest practice situation ----------------------------------------


def test_only_gps_within_the_radius_are_candidates(org_a):
    inside = pool_gp(org_a, **north(9.5))
    pool_gp(org_a, **north(10.5))
    south_west = pool_gp(org_a, latitude=LAT - 5 * KM, longitude=LON - 0.05)
    found = ranked(org_a)
    assert set(ids(found)) == {inside.pk, south_west.pk}
    by_id = {c.professional_id: c for c in found}
    assert by_id[inside.pk].distance_km == pytest.approx(9.5, abs=0.01)


def test_a_corner_of_the_bounding_box_is_outside_the_radius(org_a):
    # 8 km north and 8 km east: inside the 10 km box, 11.3 km away.
    east = 8 / (ranking.KM_PER_DEGREE * 0.7)  # cos(45.7°) ≈ 0.698
    pool_gp(org_a, latitude=LAT + 8 * KM, longitude=LON + east)
    assert ranked(org_a) == []


def test_the_radius_edge_is_reached_in_every_direction(org_a):
    """A GP just inside the radius is found whichever way he lies, the north-east too."""
    radius = 30.0
    inside = []
    for bearing in range(0, 360, 15):
        lat, lon = _point_at(LAT, LON, radius - 0.05, bearing)
        inside.append(pool_gp(org_a, latitude=lat, longitude=lon).pk)
    assert sorted(ids(ranked(org_a, radius_km=radius))) == sorted(inside)


def _point_at(lat: float, lon: float, km: float, bearing_degrees: float) -> tuple[float, float]:
    """The point at ``km`` by ranking.distance_km in that direction (found by bisection)."""
    import math

    north_km = km * math.cos(math.radians(bearing_degrees))
    east_km = km * math.sin(math.radians(bearing_degrees))
    target_lat = lat + north_km * KM
    low, high = 0.0, 2 * abs(east_km) * KM / math.cos(math.radians(lat)) + 1e-9
    for _ in range(80):
        middle = (low + high) / 2
        if ranking.distance_km(lat, lon, target_lat, lon + middle) < km:
            low = middle
        else:
            high = middle
    return target_lat, lon + math.copysign(low, east_km)


def test_each_gp_counts_once_at_the_nearest_active_practice_situation(org_a):
    gp = pool_gp(org_a, **north(8), email="far@example.org")
    near = PracticeSituationFactory(professional=gp, **north(2), email="near@example.org")
    PracticeSituationFactory(professional=gp, **north(0.5), is_active=False)
    [found] = ranked(org_a)
    assert found.professional_id == gp.pk
    assert found.situation_id == near.pk
    assert found.email == "near@example.org"
    assert found.distance_km == pytest.approx(2.0, abs=0.01)


def test_at_the_same_distance_the_situation_with_an_e_mail_wins(org_a):
    gp = pool_gp(org_a, **north(3), email="")
    PracticeSituationFactory(professional=gp, **north(3), email="cabinet@example.org")
    [found] = ranked(org_a)
    assert found.email == "cabinet@example.org"


def test_candidates_carry_what_the_pages_show(org_a):
    gp = pool_gp(
        org_a,
        **north(1),
        email="dr.durand@example.org",
        phone="04 78 11 22 33",
        capacity=3,
        home_visits=True,
        age_groups=("children",),
        last_name="Durand",
        first_name="Lucie",
        languages=["fr", "es"],
    )
    [found] = ranked(org_a)
    assert (found.professional_id, found.name) == (gp.pk, "Docteur Lucie Durand")
    assert (found.email, found.phone, found.commune) == (
        "dr.durand@example.org",
        "04 78 11 22 33",
        "Vénissieux",
    )
    assert (found.capacity, found.home_visits, found.age_groups) == (3, True, ["children"])
    assert found.languages == ["fr", "es"]
    assert found.place.startswith("Cabinet médical")


# --- Order, preferences and the fair rotation ---------------------------------------------------


def test_nearer_gps_rank_first_all_else_equal(org_a):
    far = pool_gp(org_a, **north(6))
    near = pool_gp(org_a, **north(1))
    middle = pool_gp(org_a, **north(3))
    assert ids(ranked(org_a)) == [near.pk, middle.pk, far.pk]


def test_preferences_of_the_person_lift_the_gps_who_meet_them(org_a):
    plain = pool_gp(org_a, **north(1), sex="F", languages=["fr"])
    man = pool_gp(org_a, **north(3), sex="M", languages=["fr"])
    speaks_arabic = pool_gp(org_a, **north(3), sex="F", languages=["fr", "ar"])
    visits = pool_gp(org_a, **north(3), sex="F", home_visits=True)
    found = ranked(org_a, doctor_sex="M", languages=("ar",), home_visits=True)
    by_id = {c.professional_id: c for c in found}
    for gp in (man, speaks_arabic, visits):
        assert by_id[gp.pk].score == pytest.approx(by_id[plain.pk].score - 8 + 10, abs=0.05)
    assert ids(found)[-1] == plain.pk


def test_a_gp_asked_recently_ranks_below_an_otherwise_equal_one(org_a):
    busy = pool_gp(org_a, **north(2))
    rested = pool_gp(org_a, **north(2))
    asked(org_a, busy, days_ago=10)
    first, second = ranked(org_a)
    assert (first.professional_id, second.professional_id) == (rested.pk, busy.pk)
    assert lines(second)["fairness"]["points"] == -4.0
    assert second.recent_requests == 1
    assert first.score - second.score == 4.0


def test_ties_go_to_the_gp_asked_least_recently(org_a):
    yesterday = pool_gp(org_a, **north(2))
    last_month = pool_gp(org_a, **north(2))
    asked(org_a, yesterday, days_ago=1)
    asked(org_a, last_month, days_ago=30)
    first, second = ranked(org_a)
    assert first.score == second.score
    assert (first.professional_id, second.professional_id) == (last_month.pk, yesterday.pk)


def test_only_the_organisations_recent_requests_count(org_a, org_b):
    gp = pool_gp(org_a, **north(2))
    asked(org_a, gp, days_ago=ranking.FAIRNESS_DAYS + 1)
    asked(org_b, gp, days_ago=1)
    [found] = ranked(org_a)
    assert found.recent_requests == 0
    assert "fairness" not in lines(found)


def test_gps_excluded_by_the_caller_are_left_out(org_a):
    one, two = pool_gp(org_a), pool_gp(org_a)
    assert ids(ranked(org_a, exclude={one.pk})) == [two.pk]


def test_gps_already_asked_in_this_search_are_not_candidates_again(org_a, claire):
    one = pool_gp(org_a, **north(1))
    two = pool_gp(org_a, **north(2))
    search = open_search(org_a, by=claire)
    with scopes_disabled():
        Solicitation.objects.create(
            organisation=org_a,
            search=search,
            professional=one,
            wave=1,
            email="x@example.org",
            rank=1,
            score=50,
            sent_at=timezone.now(),
        )
    with scope(organisation=org_a):
        assert ids(services.search_ranking(search)) == [two.pk]
        assert set(ids(services.search_ranking(search, include_asked=True))) == {one.pk, two.pk}


# --- Queries ------------------------------------------------------------------------------------


def _queries_of_rank(organisation) -> int:
    with CaptureQueriesContext(connection) as captured:
        found = ranked(organisation, radius_km=20.0)
    assert found
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_the_candidates(org_a):
    for n in range(2):
        asked(org_a, pool_gp(org_a, **north(n)), days_ago=n + 1)
    few = _queries_of_rank(org_a)
    for n in range(25):
        gp = pool_gp(org_a, **north(n % 15), home_visits=bool(n % 2))
        PracticeSituationFactory(professional=gp, **north(n % 7))
        if n % 3 == 0:
            asked(org_a, gp, days_ago=n + 1)
    assert len(ranked(org_a, radius_km=20.0)) == 27
    assert _queries_of_rank(org_a) == few <= 4


# --- The best few only (a wave, the page's first lines) ----------------------------------------


@pytest.fixture
def crowd(org_a):
    """Sixty GPs of varied kinds around home, some asked recently, some without e-mail."""
    import random

    rng = random.Random(5)
    gps = []
    for n in range(60):
        km_north, km_east = rng.uniform(-14, 14), rng.uniform(-14, 14)
        gp = pool_gp(
            org_a,
            latitude=LAT + km_north * KM,
            longitude=LON + km_east * KM / 0.7,
            email="" if n % 7 == 0 else None,
            accepting=rng.choice(["now", "within_6_months"]),
            capacity=rng.choice([None, 1, 4, 12]),
            home_visits=rng.random() < 0.4,
            age_groups=rng.sample(["children", "adults", "seniors"], rng.randint(0, 3)),
            sex=rng.choice("FM"),
            languages=["fr", *rng.sample(["ar", "en", "es"], rng.randint(0, 1))],
        )
        if n % 5 == 0:
            asked(org_a, gp, days_ago=rng.uniform(1, 80))
        gps.append(gp)
    for n in range(8):  # a few GPs next door: the first disc holds the best few
        gp = pool_gp(org_a, **north(rng.uniform(0, 0.8)), capacity=12, home_visits=n % 2 == 0)
        if n % 3 == 0:
            asked(org_a, gp, days_ago=rng.uniform(1, 80))
        gps.append(gp)
    return gps


PREFERENCES = [
    {},
    {"radius_km": 15.0},
    {"radius_km": 6.0, "doctor_sex": "M"},
    {"doctor_sex": "F", "languages": ("ar",), "home_visits": True, "age_group": "children"},
    {"radius_km": 20.0, "home_visits": True, "age_group": "seniors"},
]


@pytest.mark.parametrize("preferences", PREFERENCES)
def test_the_best_few_are_the_first_of_the_whole_ranking(org_a, crowd, preferences):
    whole = ranked(org_a, **preferences)
    with_email = [c for c in whole if c.email]
    for limit in (1, 3, 5, 20, 100):
        assert ids(ranked(org_a, limit=limit, **preferences)) == ids(whole[:limit])
        assert ids(ranked(org_a, limit=limit, email_only=True, **preferences)) == ids(
            with_email[:limit]
        )


def test_the_best_few_are_explained_like_the_whole_ranking(org_a, crowd):
    whole = {c.professional_id: c for c in ranked(org_a, doctor_sex="F", languages=("en",))}
    for candidate in ranked(org_a, limit=5, doctor_sex="F", languages=("en",)):
        same = whole[candidate.professional_id]
        assert (candidate.score, candidate.explanation) == (same.score, same.explanation)


def test_no_candidate_farther_than_a_disc_could_beat_what_it_found():
    near = wanted(radius_km=20.0, doctor_sex="F")
    bound = ranking.best_beyond(near, 5.0)
    best_far = ranking.score(
        candidate(distance_km=5.0, sex="F", capacity=50, recent_requests=0), near
    )
    assert best_far.score == bound == 30.0 + 15.0 + 10.0 + 10.0


def _queries(organisation, **fields) -> int:
    with CaptureQueriesContext(connection) as captured:
        ranked(organisation, **fields)
    return len(captured)


def test_the_best_few_take_a_few_queries_whatever_the_candidates(org_a, crowd):
    assert _queries(org_a, radius_km=15.0, limit=5) == 1  # the GPs next door are enough
    for limit in (1, 5, 20, 100):
        for preferences in PREFERENCES:
            fields = {"radius_km": 15.0, **preferences}
            assert _queries(org_a, limit=limit, **fields) <= ranking.MAX_READS
