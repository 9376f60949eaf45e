"""Rebuild ``communes.json.gz`` from the ``@etalab/decoupage-administratif`` npm package.

Standard library only, no Django: run it from the project root after fetching the package.

    cd /tmp && npm pack @etalab/decoupage-administratif@6.0.0
    tar xzf etalab-decoupage-administratif-6.0.0.tgz
    python parcours/territory/data/refresh.py /tmp/package/data/communes.json

It keeps every record and only the keys that ``import_communes`` reads, so the shipped
file stays small; the importer decides what to load (see PROVENANCE.md). The gzip header
carries no timestamp, so the same input always gives the same bytes.
"""

import gzip
import json
import sys
from pathlib import Path

KEPT_KEYS = (
    "code",
    "nom",
    "type",
    "departement",
    "region",
    "codesPostaux",
    "population",
    "commune",
    "chefLieu",
)
TARGET = Path(__file__).resolve().parent / "communes.json.gz"


def main(source: str) -> None:
    records = json.loads(Path(source).read_text(encoding="utf-8"))
    kept = [{key: record[key] for key in KEPT_KEYS if key in record} for record in records]
    payload = json.dumps(kept, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with (
        open(TARGET, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out,
    ):
        out.write(payload)
    print(f"{len(kept)} records -> {TARGET} ({TARGET.stat().st_size} bytes)")  # noqa: T201


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: refresh.py path/to/decoupage-administratif/data/communes.json")
    main(sys.argv[1])
