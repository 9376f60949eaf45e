"""The one sanctioned way past the append-only triggers: emptying a test database.

Django's test runner empties the database with the ``flush`` command after every
transactional test (pytest's ``transaction=True``, ``live_server``). Our ``flush`` command
(management/commands/flush.py) runs inside :func:`audit_purge_allowed`, which opens the
triggers of migration 0003 for the current connection only, and only in test mode.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections

_purge_allowed: ContextVar[bool] = ContextVar("audit_purge_allowed", default=False)


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: the SQL function the SQLite DELETE trigger asks."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "parcours_audit_purge_allowed", 0, lambda: int(_purge_allowed.get())
        )


@contextmanager
def audit_purge_allowed(using: str = "default"):
    """Let a whole-database flush empty the audit table on this connection."""
    connection = connections[using]
    token = _purge_allowed.set(True)
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET parcours.audit_purge = 'on'")
        yield
    finally:
        _purge_allowed.reset(token)
        if connection.vendor == "postgresql" and connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("RESET parcours.audit_purge")
