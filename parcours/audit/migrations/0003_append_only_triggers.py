"""Database triggers that make the audit table append-only, whatever the client.

The ORM already refuses updates and deletes (models.AuditEventQuerySet); these triggers
also stop raw SQL, a shell or another program. Both raise an integrity error.

- PostgreSQL: one PL/pgSQL function used by a BEFORE UPDATE OR DELETE row trigger and a
  BEFORE TRUNCATE statement trigger. TRUNCATE passes only when the session has set
  ``parcours.audit_purge = 'on'``: our ``flush`` command does so in the test suite (see
  audit/db.py), nothing else does.
- SQLite: BEFORE UPDATE and BEFORE DELETE triggers. DELETE passes only when the SQL
  function ``parcours_audit_purge_allowed()`` returns true; Django's connections register it
  (audit/db.py) and it is true only inside that same ``flush``. Other SQLite clients do not
  have the function, so their DELETE fails too.

WARNING (SQLite): Django rebuilds a table for most ALTERs on SQLite, which drops its
triggers. A later migration that alters this table must create them again;
tests/test_append_only.py checks that they exist after all migrations.
"""

from django.db import migrations

TABLE = "audit_auditevent"

POSTGRESQL_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' AND current_setting('parcours.audit_purge', true) = 'on' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION '{TABLE} is append-only: % refused', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$
    """,
    f"""
    CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
    """,
    f"""
    CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
    """,
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS audit_event_no_truncate ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_event_no_update_delete ON {TABLE}",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
]

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: UPDATE refused'); END
    """,
    f"""
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON {TABLE}
    WHEN NOT parcours_audit_purge_allowed()
    BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: DELETE refused'); END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TRIGGER IF EXISTS audit_event_no_update",
]

STATEMENTS = {
    "postgresql": (POSTGRESQL_CREATE, POSTGRESQL_DROP),
    "sqlite": (SQLITE_CREATE, SQLITE_DROP),
}


def _run(schema_editor, index: int) -> None:
    statements = STATEMENTS.get(schema_editor.connection.vendor)
    if statements is None:  # another engine: the ORM's refusals still apply
        return
    for sql in statements[index]:
        schema_editor.execute(sql, params=None)  # no %-interpolation: the SQL holds a "%"


def create_triggers(apps, schema_editor):
    _run(schema_editor, 0)


def drop_triggers(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_event_one_successor"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
