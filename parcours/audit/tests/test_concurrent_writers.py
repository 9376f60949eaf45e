import threading

import pytest
from django.db import connection

from parcours.audit.models import AuditEvent
from parcours.audit.selectors import audit_chain_verify

from .helpers import write_events

WRITERS = 8
EVENTS_EACH = 25

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_it_keeps_one_chain_when_writers_race(org_a):
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer():
        try:
            start.wait()
            write_events(EVENTS_EACH, organisation=org_a)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert AuditEvent.objects.count() == WRITERS * EVENTS_EACH
    result = audit_chain_verify()
    assert result.ok, result.message
    assert result.count == WRITERS * EVENTS_EACH
