"""The search entries' index of positions holding the organisation (0016) stays on SQLite
only, with the kind and the mode too (the filters a map viewport tests on each of its
entries, now without reading their rows): PostgreSQL's planner, given it, scanned the table
for a word search's map viewport (91 ms instead of 33 on the benchmark's "ergothérapeute"
viewport); it has the plain (latitude, longitude) index again.
"""

from django.db import migrations, models

SQLITE = [
    "CREATE INDEX searchentry_position ON directory_searchentry"
    " (latitude, longitude, organisation_id, kind, mode)",
]
SQLITE_REVERSE = ["DROP INDEX IF EXISTS searchentry_position"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_invitation_invited_by_optional"),
        ("directory", "0018_search_sqlite_position_by_id"),
        ("territory", "0001_communes_territories_neighbourhoods"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="searchentry", name="searchentry_position"),
        migrations.AddIndex(
            model_name="searchentry",
            index=models.Index(
                fields=["latitude", "longitude"], name="directory_s_latitud_a20187_idx"
            ),
        ),
        migrations.RunPython(_run(SQLITE), _run(SQLITE_REVERSE)),
    ]
