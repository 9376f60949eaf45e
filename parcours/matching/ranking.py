"""Ranking the GP pool for one person: who to ask first, and why.

The pool: GPs whose availability declaration with the organisation is valid (accepting now
or within six months, not expired) and who have capacity left (a declared number above
zero, or no number given). Candidates practise within the search radius of the person's
home (their nearest active practice situation counts). Each gets points, and every point
is explained:

- distance: up to 40 points, falling linearly to 0 at the edge of the radius;
- availability: 15 points when accepting now, 5 within six months; up to 10 more for the
  number of new patients declared (3 when no number was given);
- preferences of the person: sex of the doctor (10), a language in common (10), home
  visits when needed (10); an age group the GP did not declare costs 15;
- fair rotation: 4 points off for each request the GP received from the organisation in
  the last ``FAIRNESS_DAYS`` days (at most 20), so the same GPs are not always asked first.

Ties go to the GP asked least recently, then the nearest. Pure scoring (``score``) is
separate from the one query that reads the pool (``candidates``), so the benchmark and
the tests can measure and check each. ``rank(limit=N)`` gives the N best without reading
the whole radius in a dense city (a wave, the first lines of the search page); the whole
ranking of a 30 km radius in Paris is a few thousand GPs (``bench/matching.py``,
docs/performance-matching.md).
"""

import datetime
import math
from dataclasses import dataclass, field

from django.db.models import Count, Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parcours.directory.models import Availability
from parcours.directory.survey import is_gp_q

from .models import Solicitation

KM_PER_DEGREE = 111.195
FAIRNESS_DAYS = 90

DISTANCE_POINTS = 40.0
NOW_POINTS = 15.0
LATER_POINTS = 5.0
CAPACITY_POINTS_MAX = 10.0
CAPACITY_UNKNOWN_POINTS = 3.0
PREFERENCE_POINTS = 10.0
AGE_GROUP_PENALTY = -15.0
FAIRNESS_PENALTY = -4.0
FAIRNESS_PENALTY_MAX = -20.0


@dataclass(frozen=True)
class Wanted:
    """What the ranking needs to know of the person and the search."""

    latitude: float
    longitude: float
    radius_km: float
    doctor_sex: str = ""
    languages: tuple[str, ...] = ()
    home_visits: bool = False
    age_group: str = ""  # children / adults / seniors, "" if unknown


@dataclass
class Candidate:
    professional_id: int
    last_name: str
    first_name: str
    civility: str
    sex: str
    languages: list[str]
    distance_km: float
    situation_id: int
    place: str
    commune: str
    email: str
    phone: str
    accepting: str
    capacity: int | None
    home_visits: bool
    age_groups: list[str]
    expires_on: datetime.date
    recent_requests: int = 0
    last_asked_at: datetime.datetime | None = None
    score: float = 0.0
    # (criterion, points, what the explanation says) as ``score`` found them
    points: list[tuple] = field(default_factory=list, repr=False)

    @property
    def name(self) -> str:
        return " ".join(filter(None, [self.civility, self.first_name, self.last_name]))

    @property
    def explanation(self) -> list[dict]:
        """Each criterion with its points and a sentence in the active language; written on
        demand, as most candidates of a dense city are ranked but never shown."""
        return [
            {"code": code, "points": points, "detail": DETAILS[code](value)}
            for code, points, value in self.points
        ]


def age_group(age: int | None) -> str:
    if age is None:
        return ""
    if age < 16:
        return "children"
    return "seniors" if age >= 70 else "adults"


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance: exact to a few metres at a territory's scale."""
    shrink = math.cos(math.radians((lat1 + lat2) / 2))
    dlat, dlon = lat2 - lat1, (lon2 - lon1) * shrink
    return math.hypot(dlat, dlon) * KM_PER_DEGREE


def pool(*, organisation, today: datetime.date | None = None):
    """The valid declarations with capacity left (a queryset of ``Availability``)."""
    today = today or timezone.localdate()
    return Availability.objects.filter(
        organisation=organisation,
        accepting__in=[Availability.Accepting.NOW, Availability.Accepting.WITHIN_SIX_MONTHS],
        expires_on__gte=today,
        professional__is_active=True,
    ).exclude(capacity=0)


# What the one query of ``candidates`` reads of the declaration, the professional and the
# practice situation (in this order, see ``_candidate``).
COLUMNS = (
    "professional_id",
    "accepting",
    "capacity",
    "home_visits",
    "age_groups",
    "expires_on",
    "professional__last_name",
    "professional__first_name",
    "professional__civility",
    "professional__sex",
    "professional__languages",
    "professional__situations__pk",
    "professional__situations__place_name",
    "professional__situations__address",
    "professional__situations__commune__name",
    "professional__situations__email",
    "professional__situations__phone",
)


def candidates(
    *,
    organisation,
    wanted: Wanted,
    exclude: set[int] = frozenset(),
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
    within_km: float | None = None,
) -> list[Candidate]:
    """The pool's GPs within the radius (or ``within_km``), nearest situation each, with
    their recent requests.

    One query: the practice situations in the bounding box (their lat/lon index) joined to
    the professional and the declaration, with the organisation's requests of the last
    ``FAIRNESS_DAYS`` days to each GP (two correlated subqueries on the requests' index);
    then the exact distance and the nearest situation in Python. Its cost follows the
    number of situations in the box, not the size of the pool or of the country.
    """
    now = now or timezone.now()
    since = now - datetime.timedelta(days=FAIRNESS_DAYS)
    within = wanted.radius_km if within_km is None else within_km
    span = within / KM_PER_DEGREE
    shrink = max(math.cos(math.radians(wanted.latitude)), 0.01)
    requests = Solicitation.objects.filter(
        organisation=organisation, professional=OuterRef("professional_id"), sent_at__gte=since
    ).order_by()
    rows = (
        pool(organisation=organisation, today=today)
        .filter(is_gp_q("professional__"))
        .filter(  # one filter() call: the same situation meets all three conditions
            professional__situations__is_active=True,
            professional__situations__latitude__range=(
                wanted.latitude - span,
                wanted.latitude + span,
            ),
            professional__situations__longitude__range=(
                wanted.longitude - span / shrink,
                wanted.longitude + span / shrink,
            ),
        )
        .exclude(professional_id__in=exclude)
        .annotate(
            asked=Subquery(requests.values("professional").annotate(n=Count("pk")).values("n")),
            last_asked=Subquery(
                requests.values("professional").annotate(last=Max("sent_at")).values("last")
            ),
        )
        .values_list(
            *COLUMNS,
            "professional__situations__latitude",
            "professional__situations__longitude",
            "asked",
            "last_asked",
        )
        .order_by()
    )
    nearest: dict[int, tuple] = {}
    for *row, lat, lon, asked, last_asked in rows:
        distance = distance_km(wanted.latitude, wanted.longitude, lat, lon)
        if distance > within:
            continue
        known = nearest.get(row[0])
        # The nearest situation; an e-mail breaks ties (the request can then be sent).
        if known is None or (distance, not row[15]) < (known[0], not known[1][15]):
            nearest[row[0]] = (distance, row, asked or 0, last_asked)
    return [_candidate(*found) for found in nearest.values()]


def _candidate(distance: float, row: list, asked: int, last_asked) -> Candidate:
    (
        professional_id,
        accepting,
        capacity,
        home_visits,
        age_groups,
        expires_on,
        last_name,
        first_name,
        civility,
        sex,
        languages,
        situation_id,
        place_name,
        address,
        commune,
        email,
        phone,
    ) = row
    return Candidate(
        professional_id=professional_id,
        last_name=last_name,
        first_name=first_name,
        civility=civility,
        sex=sex,
        languages=list(languages or []),
        distance_km=round(distance, 2),
        situation_id=situation_id,
        place=place_name or address,
        commune=commune or "",
        email=email,
        phone=phone,
        accepting=accepting,
        capacity=capacity,
        home_visits=home_visits,
        age_groups=list(age_groups or []),
        expires_on=expires_on,
        recent_requests=asked,
        last_asked_at=last_asked,
    )


def _decimal(km: float) -> str:
    """Kilometres as French text: "2,5", "10" (never "10.0")."""
    return f"{km:.1f}".removesuffix(".0").replace(".", ",")


def _distance_detail(value: tuple) -> str:
    km, radius = value
    return _("%(km)s km du domicile (rayon %(radius)s km)") % {
        "km": _decimal(km),
        "radius": _decimal(radius),
    }


def _accepting_detail(accepting: str) -> str:
    if accepting == Availability.Accepting.NOW:
        return _("Accepte de nouveaux patients maintenant")
    return _("Accepte dans les 6 mois")


def _capacity_detail(capacity: int | None) -> str:
    if capacity is None:
        return _("Nombre de places non précisé")
    return ngettext("%(n)s place déclarée", "%(n)s places déclarées", capacity) % {"n": capacity}


def _sex_detail(matched: bool) -> str:
    if matched:
        return _("Sexe du médecin souhaité")
    return _("Sexe du médecin différent de celui souhaité")


def _languages_detail(common: tuple) -> str:
    if common:
        return _("Parle %(languages)s") % {"languages": ", ".join(common)}
    return _("Aucune langue souhaitée en commun")


def _home_visits_detail(visits: bool) -> str:
    if visits:
        return _("Fait des visites à domicile")
    return _("Ne déclare pas de visites à domicile")


def _fairness_detail(requests: int) -> str:
    return ngettext(
        "Déjà sollicité %(n)s fois ces %(days)s derniers jours",
        "Déjà sollicité %(n)s fois ces %(days)s derniers jours",
        requests,
    ) % {"n": requests, "days": FAIRNESS_DAYS}


DETAILS = {
    "distance": _distance_detail,
    "accepting": _accepting_detail,
    "capacity": _capacity_detail,
    "sex": _sex_detail,
    "languages": _languages_detail,
    "home_visits": _home_visits_detail,
    "age_group": lambda _value: _("Tranche d'âge non déclarée par le médecin"),
    "fairness": _fairness_detail,
}


def score(candidate: Candidate, wanted: Wanted) -> Candidate:
    """Give the candidate its points, criterion by criterion (in place); ``explanation``
    then says what each is worth and why."""
    closeness = max(0.0, 1 - candidate.distance_km / wanted.radius_km) if wanted.radius_km else 0
    distance = (candidate.distance_km, wanted.radius_km)
    points = [("distance", round(DISTANCE_POINTS * closeness, 1), distance)]
    now = candidate.accepting == Availability.Accepting.NOW
    points.append(("accepting", NOW_POINTS if now else LATER_POINTS, candidate.accepting))
    capacity = candidate.capacity
    if capacity is None:
        points.append(("capacity", CAPACITY_UNKNOWN_POINTS, None))
    else:
        points.append(("capacity", min(float(capacity), CAPACITY_POINTS_MAX), capacity))
    if wanted.doctor_sex:
        matched = candidate.sex == wanted.doctor_sex
        points.append(("sex", PREFERENCE_POINTS if matched else 0, matched))
    if wanted.languages:
        common = tuple(sorted(set(wanted.languages).intersection(candidate.languages)))
        points.append(("languages", PREFERENCE_POINTS if common else 0, common))
    if wanted.home_visits:
        visits = candidate.home_visits
        points.append(("home_visits", PREFERENCE_POINTS if visits else 0, visits))
    if wanted.age_group and candidate.age_groups and wanted.age_group not in candidate.age_groups:
        points.append(("age_group", AGE_GROUP_PENALTY, None))
    if candidate.recent_requests:
        penalty = max(FAIRNESS_PENALTY * candidate.recent_requests, FAIRNESS_PENALTY_MAX)
        points.append(("fairness", penalty, candidate.recent_requests))
    candidate.points = points
    candidate.score = round(sum(line[1] for line in points), 1)
    return candidate


def _best_others(wanted: Wanted) -> float:
    """The most points a candidate could get from everything but the distance."""
    preferences = bool(wanted.doctor_sex) + bool(wanted.languages) + bool(wanted.home_visits)
    return NOW_POINTS + CAPACITY_POINTS_MAX + PREFERENCE_POINTS * preferences


def best_beyond(wanted: Wanted, km: float) -> float:
    """The highest score a candidate farther than ``km`` from home could get."""
    closeness = max(0.0, 1 - km / wanted.radius_km) if wanted.radius_km else 0
    return DISTANCE_POINTS * closeness + _best_others(wanted)


def _order(candidate: Candidate) -> tuple:
    never = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    return (
        -candidate.score,
        candidate.last_asked_at or never,
        candidate.distance_km,
        candidate.professional_id,
    )


def reach(wanted: Wanted, score: float) -> float:
    """The distance beyond which no candidate could score ``score`` (``best_beyond``)."""
    return wanted.radius_km * (1 - (score - 0.2 - _best_others(wanted)) / DISTANCE_POINTS)


# With a limit, the pool is read disc by disc: first an eighth of the radius; then, while
# fewer than ``limit`` were found, a disc where this one's density promises about
# DISC_TARGET × limit candidates (at least twice as wide); once enough were found, the disc
# beyond which nobody could beat them (``reach``), which is the last: four reads at most.
FIRST_DISC = 0.125
DISC_TARGET = 4
MAX_READS = 4


def rank(
    *,
    organisation,
    wanted: Wanted,
    exclude: set[int] = frozenset(),
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
    limit: int | None = None,
    email_only: bool = False,
) -> list[Candidate]:
    """Every candidate of the pool for this person, best first, each explained; with
    ``limit``, only that many best (the same as the first ones of the whole ranking), and
    with ``email_only`` only those the nearest situation gives an e-mail to (a wave).

    With a limit the pool is read disc by disc, from the person's home outwards: a disc
    is enough once its ``limit``-th best scores more than anyone farther could
    (``best_beyond``: distance points fall with the distance, the others are bounded). In
    a dense city that spares reading thousands of GPs to show twenty.
    """
    radius = wanted.radius_km
    within = radius if limit is None else radius * FIRST_DISC
    while True:
        found = candidates(
            organisation=organisation,
            wanted=wanted,
            within_km=within,
            exclude=exclude,
            today=today,
            now=now,
        )
        ranked = sorted(
            (score(candidate, wanted) for candidate in found if candidate.email or not email_only),
            key=_order,
        )
        if limit is None:
            return ranked
        if within >= radius or limit <= 0:
            return ranked[: max(limit, 0)]
        if len(ranked) >= limit:
            kth = ranked[limit - 1].score
            if kth > best_beyond(wanted, within) + 0.1:
                return ranked[:limit]
            # The next disc is the last: nobody beyond it could beat this limit-th best.
            within = min(radius, max(reach(wanted, kth), within * 1.01))
        else:
            wider = math.sqrt(DISC_TARGET * limit / max(len(ranked), 1))
            within = min(radius, within * max(2.0, wider))
