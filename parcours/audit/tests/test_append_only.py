import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from parcours.audit.models import AppendOnlyError, AuditEvent

from .helpers import raw_execute, trigger_names, write_events


def test_it_refuses_to_save_an_existing_event(db):
    event = write_events(1)[0]
    event.action = "delete"

    with pytest.raises(AppendOnlyError):
        event.save()


def test_it_refuses_to_delete_an_event(db):
    event = write_events(1)[0]

    with pytest.raises(AppendOnlyError):
        event.delete()


def test_it_refuses_queryset_update_delete_and_bulk_update(db):
    events = write_events(2)

    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=events[0].pk).update(action="delete")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update(events, ["action"])
    assert AuditEvent.objects.count() == 2


def test_it_inserts_even_when_a_primary_key_is_given(db):
    event = write_events(1)[0]
    copy = AuditEvent(pk=event.pk, action="read", previous_hash="x", hash="y")

    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()  # an INSERT that collides, never an UPDATE of the existing row


def test_it_has_its_triggers_after_all_migrations(db):
    expected = {
        "postgresql": {"audit_event_no_update_delete", "audit_event_no_truncate"},
        "sqlite": {"audit_event_no_update", "audit_event_no_delete"},
    }[connection.vendor]

    assert expected <= trigger_names()


def test_it_refuses_a_raw_sql_update(db):
    event = write_events(1)[0]

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        raw_execute("UPDATE audit_auditevent SET action = 'delete' WHERE id = %s", [event.pk])


def test_it_refuses_a_raw_sql_delete(db):
    event = write_events(1)[0]

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        raw_execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_it_refuses_truncate(db):
    write_events(1)
    raw_execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred foreign key checks pending

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        raw_execute("TRUNCATE audit_auditevent")


@pytest.mark.django_db(transaction=True)
def test_it_lets_the_test_suite_flush_the_database(settings):
    write_events(2)

    call_command("flush", interactive=False, verbosity=0)

    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_flush_the_trail_outside_tests(settings):
    write_events(2)
    settings.TESTING = False
    try:
        with pytest.raises(CommandError):
            call_command("flush", interactive=False, verbosity=0)
    finally:
        settings.TESTING = True  # so that the test's own teardown flush can empty the database

    assert AuditEvent.objects.count() == 2
