"""Reads of the médecin traitant search, with their access filter and audit.

- ``search_get(*, organisation, search_id, user, request=None)``: one search of the
  organisation (404 otherwise); reading it reads the person, so it is audited.
- ``search_list(*, organisation, status="running")``: the coordinator's list, priority first.
- ``search_running_for_person(*, organisation, person)``: the person's search in progress.
- ``search_timeline``, ``search_solicitations``, ``search_calls``.
- ``call_round(search)``: the GPs to phone one after another, with their numbers;
  ``call_round_others(search)``: then the other GPs practising within the radius without a
  valid declaration (bounding box on the practice situations); ``gps_within(search)``: every
  GP practising within the radius (the IPA's choice); ``situation_phones(ids)``.
- ``handoff(search)``: every doctor asked, when, how, and the answer (CPAM médiateur).
- ``professional_for_user(user)``: the directory professional a user account is.
- ``gp_solicitations(*, organisation, professional)``, ``gp_accepted(...)``: the GP's page;
  ``gp_solicitation_get(*, organisation, professional, solicitation_id)``: one of his.
- ``bulletin_for_gp(*, organisation, search_id, user, request=None)``: the full bulletin for
  the GP who accepted, for ``MATCHING_BULLETIN_DAYS`` after the acceptance; audited.
- ``figures(*, organisation, start, end)``: what the indicators use.
"""

import datetime
import math
import statistics
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.utils import timezone
from django_scopes import scope

from parcours.audit.models import Action
from parcours.audit.services import audit_log
from parcours.directory.models import Availability, PracticeSituation, Professional
from parcours.directory.survey import is_gp_q

from . import ranking, services
from .models import Call, DeclineReason, MTSearch, MTSearchEvent, ProfessionalAccount, Solicitation

Status = MTSearch.Status


def _audit_read(*, search: MTSearch, user, request, **details) -> None:
    audit_log(
        action=Action.READ,
        request=request,
        actor=user,
        organisation=search.organisation,
        obj=search,
        person_id=search.person_id,
        details=details,
    )


def search_get(*, organisation, search_id: int, user, request=None) -> MTSearch:
    with scope(organisation=organisation):
        search = (
            MTSearch.objects.select_related(
                "organisation", "person__commune", "saisine", "accepted_professional", "opened_by"
            )
            .filter(organisation=organisation, pk=search_id)
            .first()
        )
    if search is None:
        raise Http404
    _audit_read(search=search, user=user, request=request)
    return search


def search_list(*, organisation, status: str = "running"):
    searches = MTSearch.objects.filter(organisation=organisation).select_related(
        "person__commune", "accepted_professional", "saisine"
    )
    if status == "running":
        searches = searches.filter(status__in=services.RUNNING)
    elif status in Status.values:
        searches = searches.filter(status=status)
    return searches.order_by("opened_at", "pk")


def search_running_for_person(*, organisation, person) -> MTSearch | None:
    """The person's search in progress (at most one), if any."""
    with scope(organisation=organisation):
        return (
            MTSearch.objects.filter(
                organisation=organisation, person=person, status__in=services.RUNNING
            )
            .only("pk", "status", "opened_at")
            .first()
        )


def priority_sorted(searches) -> list[MTSearch]:
    """Searches with more priorities first, then the oldest."""
    return sorted(searches, key=lambda s: (-len(s.priorities or []), s.opened_at, s.pk))


def search_timeline(search: MTSearch) -> list[MTSearchEvent]:
    with scope(organisation=search.organisation):
        return list(MTSearchEvent.objects.filter(search=search).select_related("by"))


def search_solicitations(search: MTSearch) -> list[Solicitation]:
    with scope(organisation=search.organisation):
        return list(
            Solicitation.objects.filter(search=search)
            .select_related("professional")
            .order_by("wave", "rank", "pk")
        )


def search_calls(search: MTSearch) -> list[Call]:
    with scope(organisation=search.organisation):
        return list(
            Call.objects.filter(search=search).select_related("professional", "by").order_by("at")
        )


@dataclass
class CallLine:
    candidate: object  # ranking.Candidate, or TerritoryGP (second group)
    calls: list = field(default_factory=list)
    solicitation: Solicitation | None = None
    phones: list = field(default_factory=list)  # every number of the GP's active situations

    @property
    def last_outcome(self) -> str:
        return self.calls[-1].outcome if self.calls else ""


def _search_calls_by_gp(search: MTSearch) -> dict[int, list[Call]]:
    calls: dict[int, list[Call]] = {}
    for call in Call.objects.filter(search=search).select_related("by").order_by("at", "pk"):
        calls.setdefault(call.professional_id, []).append(call)
    return calls


def _not_to_call(search: MTSearch, calls: dict[int, list[Call]]) -> set[int]:
    """GPs who said no in this search (e-mail or phone), and those who accepted before but
    the person did not want (the search is open again)."""
    answered = set(
        Solicitation.objects.filter(
            search=search,
            status__in=[Solicitation.Status.DECLINED, Solicitation.Status.ACCEPTED],
        ).values_list("professional_id", flat=True)
    )
    answered |= {
        pk
        for pk, items in calls.items()
        if items[-1].outcome in (Call.Outcome.REFUSED, Call.Outcome.ACCEPTED)
    }
    if search.accepted_professional_id:
        answered.add(search.accepted_professional_id)
    return answered | set(search.refused_professionals or ())


def situation_phones(professional_ids) -> dict[int, list[str]]:
    """The distinct numbers of each GP's active practice situations (one query)."""
    phones: dict[int, list[str]] = {}
    rows = (
        PracticeSituation.objects.filter(professional_id__in=list(professional_ids), is_active=True)
        .exclude(phone="")
        .order_by("professional_id", "pk")
        .values_list("professional_id", "phone")
    )
    for professional_id, phone in rows:
        numbers = phones.setdefault(professional_id, [])
        if phone not in numbers:
            numbers.append(phone)
    return phones


def _with_phones(lines: list[CallLine]) -> list[CallLine]:
    phones = situation_phones(line.candidate.professional_id for line in lines)
    for line in lines:
        first = [line.candidate.phone] if line.candidate.phone else []
        others = phones.get(line.candidate.professional_id, [])
        line.phones = first + [phone for phone in others if phone not in first]
    return lines


CALL_ROUND_MAX = 100


def call_round(search: MTSearch, now=None) -> list[CallLine]:
    """The GPs to phone, best first: the pool within the radius, less those who said no
    (by e-mail or on the phone); those already called without answer come last."""
    with scope(organisation=search.organisation):
        calls = _search_calls_by_gp(search)
        skip = _not_to_call(search, calls)
        solicitations = {s.professional_id: s for s in Solicitation.objects.filter(search=search)}
        # The best CALL_ROUND_MAX of the pool still to call (a dense city holds thousands;
        # every call made stays in the timeline and the médiateur's file).
        ranked = services.search_ranking(
            search, include_asked=True, now=now, limit=CALL_ROUND_MAX + len(skip)
        )
    lines = [
        CallLine(
            candidate=candidate,
            calls=calls.get(candidate.professional_id, []),
            solicitation=solicitations.get(candidate.professional_id),
        )
        for candidate in ranked
        if candidate.professional_id not in skip
    ]
    lines.sort(key=lambda line: len(line.calls))  # stable: the ranking within each group
    return _with_phones(lines)


@dataclass
class TerritoryGP:
    """A GP practising within the search radius (nearest active situation), whatever his
    declaration: the second group of the call round, the IPA's choice of GP."""

    professional_id: int
    name: str
    rpps: str
    distance_km: float
    place: str
    commune: str
    phone: str
    last_name: str = ""
    explanation: list = field(default_factory=list)


@dataclass
class OtherGPs:
    lines: list  # CallLine, nearest first, at most OTHERS_MAX
    more: int = 0  # how many more are farther


OTHERS_MAX = 100


def gps_within(search: MTSearch) -> list[TerritoryGP]:
    """Every active GP practising within the search radius, nearest first (one query: the
    bounding box on the indexed latitude/longitude, then the exact distance)."""
    if search.latitude is None or search.longitude is None:
        return []
    span = search.radius_km / ranking.KM_PER_DEGREE
    shrink = max(math.cos(math.radians(search.latitude)), 0.01)
    rows = (
        PracticeSituation.objects.filter(
            is_gp_q("professional__"),
            is_active=True,
            latitude__range=(search.latitude - span, search.latitude + span),
            longitude__range=(search.longitude - span / shrink, search.longitude + span / shrink),
            professional__is_active=True,
        )
        .order_by()
        .values_list(
            "professional_id",
            "latitude",
            "longitude",
            "place_name",
            "address",
            "commune__name",
            "phone",
            "professional__civility",
            "professional__first_name",
            "professional__last_name",
            "professional__rpps",
        )
    )
    nearest: dict[int, TerritoryGP] = {}
    for pk, lat, lon, place, address, commune, phone, civility, first, last, rpps in rows:
        distance = ranking.distance_km(search.latitude, search.longitude, lat, lon)
        known = nearest.get(pk)
        if distance > search.radius_km or (known and known.distance_km <= distance):
            continue
        nearest[pk] = TerritoryGP(
            professional_id=pk,
            name=" ".join(filter(None, [civility, first, last])),
            rpps=rpps,
            distance_km=round(distance, 2),
            place=place or address,
            commune=commune or "",
            phone=phone,
            last_name=last,
        )
    return sorted(nearest.values(), key=lambda gp: (gp.distance_km, gp.professional_id))


def call_round_others(search: MTSearch, now=None, limit: int = OTHERS_MAX) -> OtherGPs:
    """The second group of the call round: the other GPs practising within the radius who
    have no valid declaration with the organisation (those who declared "no" or "full"
    recently are not called), less those who said no in this search; fewest calls first,
    then the nearest."""
    today = timezone.localdate(now) if now else timezone.localdate()
    with scope(organisation=search.organisation):
        declared = set(
            Availability.objects.filter(
                organisation=search.organisation, expires_on__gte=today
            ).values_list("professional_id", flat=True)
        )
        calls = _search_calls_by_gp(search)
        skip = _not_to_call(search, calls) | declared
    lines = [
        CallLine(candidate=gp, calls=calls.get(gp.professional_id, []))
        for gp in gps_within(search)
        if gp.professional_id not in skip
    ]
    lines.sort(key=lambda line: len(line.calls))  # stable: nearest first within each group
    return OtherGPs(lines=_with_phones(lines[:limit]), more=max(len(lines) - limit, 0))


@dataclass(frozen=True)
class Asked:
    at: datetime.datetime
    professional: object
    how: str  # "email" / "phone"
    answer: str
    reason: str


def handoff(search: MTSearch) -> list[Asked]:
    """Every doctor asked, when, how and what they said, in time order."""
    lines = []
    for solicitation in search_solicitations(search):
        reason = ""
        if solicitation.decline_reason:
            reason = str(DeclineReason(solicitation.decline_reason).label)
            if solicitation.decline_note:
                reason = f"{reason} : {solicitation.decline_note}"
        lines.append(
            Asked(
                at=solicitation.sent_at,
                professional=solicitation.professional,
                how="email",
                answer=str(Solicitation.Status(solicitation.status).label),
                reason=reason,
            )
        )
    for call in search_calls(search):
        reason = str(DeclineReason(call.reason).label) if call.reason else ""
        if call.note:
            reason = f"{reason} : {call.note}" if reason else call.note
        lines.append(
            Asked(
                at=call.at,
                professional=call.professional,
                how="phone",
                answer=str(Call.Outcome(call.outcome).label),
                reason=reason,
            )
        )
    return sorted(lines, key=lambda line: line.at)


# --- The GP's own pages ----------------------------------------------------------------------


def professional_for_user(user):
    """The directory professional this account is, or None."""
    if not user.is_authenticated:
        return None
    account = ProfessionalAccount.objects.select_related("professional").filter(user=user).first()
    return account.professional if account else None


def gp_solicitations(*, organisation, professional):
    """Requests still waiting for the GP's answer (anonymous, as in the e-mail)."""
    with scope(organisation=organisation):
        return list(
            Solicitation.objects.filter(
                organisation=organisation,
                professional=professional,
                status=Solicitation.Status.SENT,
                search__status=Status.OPEN,
            )
            .select_related("search__person__commune")
            .order_by("-sent_at")
        )


def gp_solicitation_get(*, organisation, professional, solicitation_id: int) -> Solicitation:
    """One request sent to this GP (any state); anyone else's answers 404."""
    with scope(organisation=organisation):
        solicitation = (
            Solicitation.objects.select_related(
                "organisation", "search__organisation", "search__person__commune", "professional"
            )
            .filter(organisation=organisation, professional=professional, pk=solicitation_id)
            .first()
        )
    if solicitation is None or professional is None:
        raise Http404
    return solicitation


def bulletin_deadline(search: MTSearch) -> datetime.datetime | None:
    if search.accepted_at is None:
        return None
    return search.accepted_at + datetime.timedelta(days=settings.MATCHING_BULLETIN_DAYS)


def gp_accepted(*, organisation, professional):
    """The searches the GP accepted (his new patients), newest first, with the bulletin's
    deadline."""
    with scope(organisation=organisation):
        searches = list(
            MTSearch.objects.filter(organisation=organisation, accepted_professional=professional)
            .exclude(status=Status.CLOSED)
            .order_by("-accepted_at")
        )
    now = timezone.now()
    for search in searches:
        search.bulletin_until = bulletin_deadline(search)
        search.bulletin_open = search.bulletin_until is not None and now < search.bulletin_until
    return searches


def gp_availability(*, organisation, professional) -> Availability | None:
    with scope(organisation=organisation):
        return Availability.objects.filter(
            organisation=organisation, professional=professional
        ).first()


def bulletin_for_gp(*, organisation, search_id: int, user, request=None) -> MTSearch:
    """The search (person, saisine) for the GP who accepted it, while the bulletin is
    shared; audited. Anyone else: 404; after the deadline: PermissionDenied."""
    professional = professional_for_user(user)
    with scope(organisation=organisation):
        search = (
            MTSearch.objects.select_related("person__commune", "saisine", "organisation")
            .filter(organisation=organisation, pk=search_id)
            .first()
        )
    if (
        search is None
        or professional is None
        or search.accepted_professional_id != professional.pk
        or search.status == Status.CLOSED
    ):
        raise Http404
    deadline = bulletin_deadline(search)
    if deadline is None or timezone.now() >= deadline:
        raise PermissionDenied("bulletin no longer shared")
    _audit_read(search=search, user=user, request=request, bulletin=True)
    with scope(organisation=organisation):
        services._event(search, MTSearchEvent.Kind.BULLETIN, by=user)
    return search


def situation_phone(professional_id: int) -> str:
    situation = (
        PracticeSituation.objects.filter(professional_id=professional_id, is_active=True)
        .exclude(phone="")
        .values_list("phone", flat=True)
        .first()
    )
    return situation or ""


# --- Figures ---------------------------------------------------------------------------------


@dataclass
class Figures:
    start: datetime.date
    end: datetime.date
    opened: int = 0
    found: int = 0
    found_with_ipa: int = 0
    found_without_ipa: int = 0
    declared: int = 0
    median_days_to_mt: float | None = None
    gps_solicited: int = 0
    gps_accepted: int = 0
    solicitations: int = 0
    refusals: list = field(default_factory=list)  # (label, count)
    running: int = 0
    by_stage: list = field(default_factory=list)  # (label, count)


def _bounds(start: datetime.date, end: datetime.date):
    tz = timezone.get_current_timezone()
    low = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    high = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return low, high


def figures(*, organisation, start: datetime.date, end: datetime.date) -> Figures:
    """Searches opened in [start, end]; an MT found = the person chose a GP who accepted
    (found or declared); the delay runs from opening to that choice."""
    low, high = _bounds(start, end)
    result = Figures(start=start, end=end)
    with scope(organisation=organisation):
        searches = MTSearch.objects.filter(
            organisation=organisation, opened_at__gte=low, opened_at__lt=high
        )
        result.opened = searches.count()
        found = searches.filter(status__in=[Status.FOUND, Status.DECLARED])
        result.found = found.count()
        result.found_with_ipa = found.filter(accepted_via=MTSearch.Via.IPA).count()
        result.found_without_ipa = result.found - result.found_with_ipa
        result.declared = searches.filter(status=Status.DECLARED).count()
        delays = [
            (chosen - opened).total_seconds() / 86400
            for opened, chosen in found.values_list("opened_at", "person_choice_at")
            if chosen
        ]
        result.median_days_to_mt = round(statistics.median(delays), 1) if delays else None
        solicitations = Solicitation.objects.filter(
            organisation=organisation, sent_at__gte=low, sent_at__lt=high
        )
        calls = Call.objects.filter(organisation=organisation, at__gte=low, at__lt=high)
        result.solicitations = solicitations.count()
        # The GPs who took a file the IPA proposed them were asked too (no request row).
        via_ipa = set(
            MTSearch.objects.filter(
                organisation=organisation,
                accepted_via=MTSearch.Via.IPA,
                accepted_at__gte=low,
                accepted_at__lt=high,
            ).values_list("accepted_professional_id", flat=True)
        )
        asked = (
            set(solicitations.values_list("professional_id", flat=True))
            | set(calls.values_list("professional_id", flat=True))
            | via_ipa
        )
        result.gps_solicited = len(asked)
        accepted = set(
            solicitations.filter(status=Solicitation.Status.ACCEPTED).values_list(
                "professional_id", flat=True
            )
        ) | set(
            calls.filter(outcome=Call.Outcome.ACCEPTED).values_list("professional_id", flat=True)
        )
        result.gps_accepted = len(accepted | via_ipa)
        counts: dict[str, int] = {}
        for row in (
            solicitations.filter(status=Solicitation.Status.DECLINED)
            .values("decline_reason")
            .annotate(n=Count("id"))
        ):
            counts[row["decline_reason"]] = counts.get(row["decline_reason"], 0) + row["n"]
        for row in (
            calls.filter(outcome=Call.Outcome.REFUSED).values("reason").annotate(n=Count("id"))
        ):
            counts[row["reason"]] = counts.get(row["reason"], 0) + row["n"]
        result.refusals = [
            (str(label), counts[value])
            for value, label in DeclineReason.choices
            if counts.get(value)
        ]
        running = MTSearch.objects.filter(organisation=organisation, status=Status.OPEN)
        result.running = running.count()
        stages = dict(
            running.values_list("stage").annotate(n=Count("id")).values_list("stage", "n")
        )
        result.by_stage = [
            (str(label), stages[value])
            for value, label in MTSearch.Stage.choices
            if stages.get(value)
        ]
    return result


def gp_by_rpps(rpps: str) -> Professional | None:
    """An active GP of the directory by his RPPS number (national data)."""
    return Professional.objects.filter(is_gp_q(), rpps=rpps, is_active=True).first()


def professional_get(professional_id: int) -> Professional | None:
    return Professional.objects.filter(pk=professional_id).first()


def call_round_gp(search: MTSearch, professional_id: int) -> Professional | None:
    """The GP of a line of the call round (the lists the coordinator saw), else None."""
    ids = {line.candidate.professional_id for line in call_round(search)}
    ids |= {line.candidate.professional_id for line in call_round_others(search).lines}
    return professional_get(professional_id) if professional_id in ids else None
