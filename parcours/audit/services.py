"""Writing the audit trail. Services and selectors call audit_log(); views never do."""

import hashlib
import json

from django.db import connection, models, transaction

from .models import Action, AuditEvent

GENESIS_HASH = "0" * 64


def event_hash(event: AuditEvent) -> str:
    """The hash of one event: its content plus the previous event's hash."""
    payload = {
        "at": event.at.isoformat(timespec="microseconds"),
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

    PostgreSQL: a transaction-level advisory lock. SQLite: writers are already serialised
    (transactions begin IMMEDIATE, taking the database write lock).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def request_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


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
        if actor is None and getattr(request, "user", None) is not None and request.user.is_authenticated:
            actor = request.user
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
        details=details or {},
    )
    _lock_chain()
    last = AuditEvent.objects.order_by("-id").only("hash").first()
    event.previous_hash = last.hash if last else GENESIS_HASH
    event.hash = event_hash(event)
    event.save()
    return event
