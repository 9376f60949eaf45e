"""SQLite only: the search entries' ids follow their sort order (see search.ORDERED_BELOW),
and the covering index of migration 0015 goes.

The full-text index lists its matches in id order: with ids in the sort order, a search
reads its first matches there and stops (``search._read_ordered``), where it used to read
every match and sort them (through the covering index, no longer used). Existing entries
are numbered again after the highest id, in the sort order (the full-text index follows
through its triggers); rebuilds number them from 1. PostgreSQL is unchanged.
"""

from django.db import migrations

INDEX = "searchentry_id_sort"


def renumber(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM directory_searchentry")
        (highest,) = cursor.fetchone()
        if highest is None:
            return
        cursor.execute("DROP TABLE IF EXISTS search_entry_rank")
        cursor.execute(
            "CREATE TEMPORARY TABLE search_entry_rank (old integer PRIMARY KEY, new integer)"
        )
        cursor.execute(
            "INSERT INTO search_entry_rank SELECT id, %s + ROW_NUMBER() OVER"
            " (ORDER BY sort_key, id) FROM directory_searchentry",
            [highest],
        )
        cursor.execute(
            "UPDATE directory_searchentry SET id = (SELECT new FROM search_entry_rank"
            " WHERE old = directory_searchentry.id)"
        )
        cursor.execute("DROP TABLE search_entry_rank")


def restore_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE INDEX {INDEX} ON directory_searchentry"
            " (id, sort_key, organisation_id, kind, mode)"
        )


class Migration(migrations.Migration):
    dependencies = [("directory", "0016_search_position_index")]

    operations = [migrations.RunPython(renumber, restore_index)]
