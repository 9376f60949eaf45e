"""Practice situations' keys begin with the professional's RPPS number.

A key was the SHA-1 (40 hex digits) of the RPPS row's identifying cells; it becomes the
11-digit RPPS followed by the first 29 digits of that SHA-1 (40 characters still). An
extraction lists a professional's rows together, in RPPS order: the new keys are written
at the end of their unique index instead of at random places, which keeps the index's
pages in the cache during an import (docs/performance.md).

Existing keys are rewritten from the old key and the professional's RPPS, so a re-import
finds its rows again. Keys that are not SHA-1s (situations entered otherwise) are kept.
The reverse cannot restore the hashes' end: rolled back, the next import would create the
situations again and deactivate these.
"""

from django.db import migrations

POSTGRESQL = """
UPDATE directory_practicesituation AS s SET source_key = p.rpps || left(s.source_key, 29)
FROM directory_professional AS p
WHERE p.id = s.professional_id AND s.source_key ~ '^[0-9a-f]{40}$' AND p.rpps ~ '^[0-9]{11}$'
"""
SQLITE = """
UPDATE directory_practicesituation SET source_key = (
    SELECT p.rpps FROM directory_professional AS p WHERE p.id = professional_id
) || substr(source_key, 1, 29)
WHERE length(source_key) = 40 AND source_key NOT GLOB '*[^0-9a-f]*' AND EXISTS (
    SELECT 1 FROM directory_professional AS p WHERE p.id = professional_id
    AND length(p.rpps) = 11 AND p.rpps NOT GLOB '*[^0-9]*'
)
"""


def forwards(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    schema_editor.execute(POSTGRESQL if vendor == "postgresql" else SQLITE)


class Migration(migrations.Migration):
    dependencies = [("directory", "0010_lean_indexes")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
