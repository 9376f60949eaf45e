from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from parcours.audit.models import AuditEvent
from parcours.audit.selectors import audit_chain_verify
from parcours.audit.services import event_hash

from .helpers import raw_execute, triggers_bypassed, write_events


def verify() -> str:
    """Run the command; return what it printed, or raise CommandError."""
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def test_it_passes_an_intact_chain(db):
    write_events(5)

    assert "OK: 5 événements, chaîne intègre" in verify()


def test_it_passes_an_empty_chain(db):
    assert "OK: 0 événements, chaîne intègre" in verify()


def test_it_detects_an_action_changed_in_the_database(db):
    events = write_events(5)
    with triggers_bypassed():
        raw_execute("UPDATE audit_auditevent SET action = 'create' WHERE id = %s", [events[2].pk])

    with pytest.raises(CommandError, match=rf"événement {events[2].pk} \(altered\)"):
        verify()


def test_it_detects_details_changed_in_the_database(db):
    events = write_events(5, details={"fields": ["phone"]})
    sql = {
        "postgresql": "UPDATE audit_auditevent SET details = %s::jsonb WHERE id = %s",
        "sqlite": "UPDATE audit_auditevent SET details = %s WHERE id = %s",
    }[connection.vendor]
    with triggers_bypassed():
        raw_execute(sql, ['{"fields": []}', events[3].pk])

    with pytest.raises(CommandError, match=rf"événement {events[3].pk} \(altered\)"):
        verify()


def test_it_detects_a_deleted_event(db):
    events = write_events(5)
    with triggers_bypassed():
        raw_execute("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])

    result = audit_chain_verify()

    assert (result.ok, result.broken_event_id, result.problem) == (
        False,
        events[2].pk,
        "missing_predecessor",
    )
    with pytest.raises(CommandError, match=rf"événement {events[2].pk} \(missing_predecessor\)"):
        verify()


def test_it_detects_a_deleted_first_event(db):
    events = write_events(3)
    with triggers_bypassed():
        raw_execute("DELETE FROM audit_auditevent WHERE id = %s", [events[0].pk])

    result = audit_chain_verify()

    assert (result.broken_event_id, result.problem) == (events[1].pk, "missing_predecessor")


def test_it_detects_an_event_moved_in_the_chain(db):
    events = write_events(4)
    moved = AuditEvent.objects.get(pk=events[1].pk)
    moved.previous_hash = events[3].hash  # now claims to follow the last event...
    with triggers_bypassed():  # ...and its hash is recomputed, as a careful forger would
        raw_execute(
            "UPDATE audit_auditevent SET previous_hash = %s, hash = %s WHERE id = %s",
            [moved.previous_hash, event_hash(moved), moved.pk],
        )

    result = audit_chain_verify()

    assert (result.broken_event_id, result.problem) == (events[1].pk, "broken_link")


def test_it_reports_the_first_broken_link_only(db):
    events = write_events(6)
    with triggers_bypassed():
        raw_execute(
            "UPDATE audit_auditevent SET object_id = 'x' WHERE id IN (%s, %s)",
            [events[4].pk, events[1].pk],
        )

    assert audit_chain_verify().broken_event_id == events[1].pk
