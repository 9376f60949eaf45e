"""The full-text index of SearchEntry.text, per engine.

SQLite: an external-content FTS5 table kept in sync by triggers (and an fts5vocab view of
its words, for typo tolerance). PostgreSQL: a generated tsvector column ('simple'
configuration: the text is already normalised in Python) with a GIN index.
"""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE directory_search_fts USING fts5(text, content='directory_searchentry',"
    " content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE VIRTUAL TABLE directory_search_vocab USING fts5vocab(directory_search_fts, 'row')",
    "CREATE TRIGGER directory_search_ai AFTER INSERT ON directory_searchentry BEGIN"
    " INSERT INTO directory_search_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER directory_search_ad AFTER DELETE ON directory_searchentry BEGIN"
    " INSERT INTO directory_search_fts(directory_search_fts, rowid, text)"
    " VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER directory_search_au AFTER UPDATE ON directory_searchentry BEGIN"
    " INSERT INTO directory_search_fts(directory_search_fts, rowid, text)"
    " VALUES ('delete', old.id, old.text);"
    " INSERT INTO directory_search_fts(rowid, text) VALUES (new.id, new.text); END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS directory_search_au",
    "DROP TRIGGER IF EXISTS directory_search_ad",
    "DROP TRIGGER IF EXISTS directory_search_ai",
    "DROP TABLE IF EXISTS directory_search_vocab",
    "DROP TABLE IF EXISTS directory_search_fts",
]
POSTGRESQL = [
    "ALTER TABLE directory_searchentry ADD COLUMN search_vector tsvector"
    " GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, text)) STORED",
    "CREATE INDEX directory_searchentry_search_vector ON directory_searchentry"
    " USING gin (search_vector)",
]
POSTGRESQL_REVERSE = [
    "DROP INDEX IF EXISTS directory_searchentry_search_vector",
    "ALTER TABLE directory_searchentry DROP COLUMN IF EXISTS search_vector",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("directory", "0004_search_entries")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        )
    ]
