"""Reads on the audit trail: the chain check and the DPO's lists and exports."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from parcours.accounts.models import Organisation

from .models import Action, AuditEvent
from .services import GENESIS_HASH, audit_log, event_hash

VERIFY_CHUNK_SIZE = 2000


@dataclass(frozen=True)
class ChainVerification:
    """The outcome of :func:`audit_chain_verify`."""

    count: int  # events checked (up to and including the broken one)
    broken_event_id: int | None = None
    problem: str = ""  # "altered", "missing_predecessor" or "broken_link"
    message: str = ""  # for people, in French

    @property
    def ok(self) -> bool:
        return self.broken_event_id is None


def audit_chain_verify() -> ChainVerification:
    """Walk the whole chain in id order and report the first broken link.

    Constant memory: rows are streamed in chunks (a server-side cursor on PostgreSQL).
    An event is "altered" when its content no longer gives its hash; its link is broken
    when it does not name the previous event's hash: "missing_predecessor" when no event
    has the hash it names (the predecessor was deleted, or rewritten with a new hash).
    """
    expected_previous = GENESIS_HASH
    count = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=VERIFY_CHUNK_SIZE):
        count += 1
        problem = _event_problem(event, expected_previous)
        if problem:
            return ChainVerification(count, event.pk, problem, _describe(problem, event))
        expected_previous = event.hash
    return ChainVerification(count)


def _event_problem(event: AuditEvent, expected_previous: str) -> str:
    if event_hash(event) != event.hash:
        return "altered"
    if event.previous_hash == expected_previous:
        return ""
    if not AuditEvent.objects.filter(hash=event.previous_hash).exists():
        return "missing_predecessor"
    return "broken_link"


def _describe(problem: str, event: AuditEvent) -> str:
    messages = {
        "altered": _(
            "le contenu de l'événement %(id)s a été modifié après son écriture "
            "(son empreinte ne correspond plus)."
        ),
        "missing_predecessor": _(
            "l'événement qui précédait l'événement %(id)s est introuvable "
            "(supprimé, ou réécrit avec une nouvelle empreinte)."
        ),
        "broken_link": _(
            "l'événement %(id)s ne suit pas l'événement précédent de la chaîne (maillon rompu)."
        ),
    }
    return messages[problem] % {"id": event.pk}


@dataclass(frozen=True)
class EventFilters:
    """What the DPO page filters on; every field is optional."""

    person_id: int | None = None
    actor_id: int | None = None
    action: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None  # inclusive

    def as_details(self) -> dict:
        """The filters for an audit event's details: identifiers and dates only."""
        values = {
            "person_id": self.person_id,
            "actor_id": self.actor_id,
            "action": self.action,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
        }
        return {key: value for key, value in values.items() if value not in (None, "")}


def _start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight of ``day`` in the current time zone (Europe/Paris)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def audit_event_list(*, organisation: Organisation, filters: EventFilters) -> QuerySet[AuditEvent]:
    """The organisation's events, newest first. Other organisations' events never appear."""
    events = AuditEvent.objects.filter(organisation=organisation)
    if filters.person_id is not None:
        events = events.filter(person_id=filters.person_id)
    if filters.actor_id is not None:
        events = events.filter(actor_id=filters.actor_id)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.date_from:
        events = events.filter(at__gte=_start_of_day(filters.date_from))
    if filters.date_to:
        events = events.filter(at__lt=_start_of_day(filters.date_to + datetime.timedelta(days=1)))
    return events.select_related("actor").order_by("-at", "-id")


def audit_event_export(
    *, organisation: Organisation, filters: EventFilters, request=None, actor=None
) -> tuple[int, QuerySet[AuditEvent]]:
    """The rows of an export, and the export recorded in the trail (filters and row count).

    The rows stop at the newest event counted, so the export's own event (and any written
    while it streams) is not in it and the count in the trail is the count in the file.
    """
    events = audit_event_list(organisation=organisation, filters=filters)
    bounds = events.aggregate(count=Count("id"), last_id=Max("id"))
    audit_log(
        action=Action.EXPORT,
        request=request,
        actor=actor,
        organisation=organisation,
        object_type=AuditEvent._meta.label_lower,
        details={"filters": filters.as_details(), "rows": bounds["count"]},
    )
    return bounds["count"], events.filter(id__lte=bounds["last_id"] or 0)
