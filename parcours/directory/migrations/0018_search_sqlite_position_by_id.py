"""SQLite only: an index of the search entries by id holding their position and visibility.

A map viewport of a word search reads its matches' positions: through this index, by id,
without their rows (about half the time). PostgreSQL reads its matches from the table.
"""

from django.db import migrations

INDEX = "searchentry_id_position"
SQLITE = [
    f"CREATE INDEX {INDEX} ON directory_searchentry"
    " (id, latitude, longitude, organisation_id)",
]
SQLITE_REVERSE = [f"DROP INDEX IF EXISTS {INDEX}"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("directory", "0017_search_entries_in_sort_order")]

    operations = [migrations.RunPython(_run(SQLITE), _run(SQLITE_REVERSE))]
