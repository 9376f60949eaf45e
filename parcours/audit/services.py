"""Writing the audit trail. Services and selectors call audit_log(); views never do."""

import datetime
import hashlib
import ipaddress
import json

from django.db import connection, models, transaction
from django.utils import timezone

from parcours.lib.http import client_ip

from .models import Action, AuditEvent

GENESIS_HASH = "0" * 64


def event_hash(event: AuditEvent) -> str:
    """The hash of one event: its content plus the previous event's hash."""
    payload = {
        # In UTC, as the database gives it back, whatever time zone it was written in.
        "at": event.at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "actor": event.actor_id,
        "organisation": event.organisation_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "person_id": event.person_id,
        "ip": event.ip,
        "details": event.details,
        "previous_hash": event.previous_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


CHAIN_LOCK_KEY = 7_245_001  # arbitrary constant for PostgreSQL's advisory lock


def _lock_chain() -> None:
    """Serialise writers so that two events never share a predecessor.

    Must run inside the transaction that inserts the event (audit_log is atomic).

    PostgreSQL: a transaction-level advisory lock, released at COMMIT or ROLLBACK of the
    outermost transaction. Under READ COMMITTED the next statement (reading the last hash)
    takes a fresh snapshot, so it sees the event the previous holder committed (under
    REPEATABLE READ it might not: the unique constraint below then fails the insert). The lock is
    held until the caller's transaction ends: call audit_log() late in long transactions.

    SQLite: writers are already serialised, transactions begin IMMEDIATE (settings) and so
    hold the database write lock from their first statement. Were they DEFERRED, a writer
    racing another would get "database is locked" rather than fork the chain.

    Either way the unique constraint on ``previous_hash`` refuses a fork.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def request_ip(request) -> str | None:
    """The client address, normalised as the database stores it (or None if malformed)."""
    if request is None:
        return None
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return None
    return str(address)  # compressed IPv6, as PostgreSQL's inet gives it back


def _as_stored(details: dict | None) -> dict:
    """``details`` as the JSON column gives it back (tuples become lists, keys strings...).

    The hash is computed on this copy, so it matches the row that is read back later, and
    a caller changing its dict afterwards changes nothing.
    """
    return json.loads(json.dumps(details or {}))


@transaction.atomic
def audit_log(
    *,
    action: Action | str,
    request=None,
    actor=None,
    organisation=None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    person_id: int | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain.

    ``actor`` and ``organisation`` default to the request's. ``details`` must hold no
    personal data (identifiers, codes, counts only).
    """
    if request is not None:
        user = getattr(request, "user", None)
        if actor is None and user is not None and user.is_authenticated:
            actor = user
        if organisation is None:
            organisation = getattr(request, "organisation", None)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    event = AuditEvent(
        actor=actor,
        organisation=organisation,
        action=Action(action),
        object_type=object_type,
        object_id=str(object_id),
        person_id=person_id,
        ip=request_ip(request),
        details=_as_stored(details),
    )
    _lock_chain()
    # Dated once the lock is held, so that dates follow the chain (and id) order.
    event.at = timezone.now()
    last_hash = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    event.previous_hash = last_hash or GENESIS_HASH
    event.hash = event_hash(event)
    event.save()
    return event
