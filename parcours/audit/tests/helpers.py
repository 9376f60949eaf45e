"""What the audit tests share: writing events, and bypassing the triggers like a rogue DBA."""

from contextlib import contextmanager

from django.db import connection

from parcours.audit.models import Action
from parcours.audit.services import audit_log

TABLE = "audit_auditevent"


def write_events(count: int, **kwargs) -> list:
    kwargs.setdefault("action", Action.READ)
    return [audit_log(object_type="people.person", object_id=n, **kwargs) for n in range(count)]


@contextmanager
def triggers_bypassed():
    """Switch the append-only triggers off, as someone with full database rights could.

    Only inside the test's transaction: the rollback at the end of the test restores them.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute("DROP TRIGGER audit_event_no_delete")
    yield


def raw_execute(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def trigger_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [TABLE],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE]
            )
        return {row[0] for row in cursor.fetchall()}
