"""What the HSDS 3.0 schemas require, checked by hand, and the official examples.

``jsonschema`` is not a dependency of the project, so the rules that matter here are
written down from the HSDS 3.0 schemas (openreferral/specification, ``schema/*.json``):
``required`` (JSON) and ``tabular_required`` (CSV) fields, enumerations, identifiers as
UUIDs. The official examples of the shared test data must pass the same checks, so a
check that is too strict shows up here first.
"""

import csv
import json
import uuid
from pathlib import Path

import pytest
from django.conf import settings

SHARED_HSDS = (
    settings.BASE_DIR.parent / "shared" / "data" / "hsds" / "openreferral-specification-3.0"
)

# table → (required in JSON and CSV, required in CSV only)
REQUIRED = {
    "services": (("id", "name", "status"), ("organization_id",)),
    "organizations": (("id", "name", "description"), ()),
    "organization_identifiers": (("id", "identifier_type", "identifier"), ("organization_id",)),
    "locations": (("id", "location_type"), ()),
    "addresses": (
        ("id", "address_1", "city", "state_province", "postal_code", "country", "address_type"),
        ("location_id",),
    ),
    "accessibility": (("id",), ("location_id",)),
    "service_at_location": (("id",), ("service_id", "location_id")),
    "phones": (("id", "number"), ()),
    "schedules": (("id",), ()),
    "languages": (("id",), ()),
    "taxonomy_terms": (("id", "code", "name"), ()),
    "attributes": (("id",), ("link_id", "taxonomy_term_id", "link_entity")),
}
ENUMS = {
    ("services", "status"): {"active", "inactive", "defunct", "temporarily closed"},
    ("locations", "location_type"): {"physical", "postal", "virtual"},
    ("addresses", "address_type"): {"physical", "postal", "virtual"},
    ("schedules", "freq"): {"WEEKLY", "MONTHLY"},
    ("schedules", "wkst"): {"MO", "TU", "WE", "TH", "FR", "SA", "SU"},
}
NUMBERS = {("locations", "latitude"), ("locations", "longitude")}
# The nested object of each table inside a service, for the JSON checks.
NESTED = {
    "phones": "phones",
    "schedules": "schedules",
    "languages": "languages",
    "attributes": "attributes",
    "service_at_locations": "service_at_location",
}


def official(name: str) -> Path:
    path = SHARED_HSDS / name
    if not path.exists():
        pytest.skip(f"official HSDS example not available at {path}")
    return path


def official_json(name: str) -> dict:
    return json.loads(official(name).read_text(encoding="utf-8"))


def official_header(table: str) -> list[str]:
    with official(f"csv/{table}.csv").open(encoding="utf-8") as handle:
        return next(csv.reader(handle))


def problems(table: str, row: dict, *, tabular: bool) -> list[str]:
    required, tabular_required = REQUIRED[table]
    found = []
    for key in required + (tabular_required if tabular else ()):
        if row.get(key) in (None, ""):
            found.append(f"{table}.{key} missing")
    for (enum_table, key), allowed in ENUMS.items():
        if enum_table == table and row.get(key) not in (None, "") and row[key] not in allowed:
            found.append(f"{table}.{key}={row[key]!r}")
    for number_table, key in NUMBERS:
        if number_table == table and row.get(key) not in (None, ""):
            try:
                float(row[key])
            except (TypeError, ValueError):
                found.append(f"{table}.{key} not a number")
    if row.get("id"):
        try:
            uuid.UUID(str(row["id"]))
        except ValueError:
            found.append(f"{table}.id not a UUID")
    return found


def table_problems(tables: dict[str, list[dict]]) -> list[str]:
    found = []
    for table, rows in tables.items():
        for row in rows:
            found += problems(table, row, tabular=True)
    return found


def service_problems(service: dict) -> list[str]:
    """Checks of a nested HSDS service object and of the objects inside it."""
    found = problems("services", service, tabular=False)
    if "organization" in service:
        found += problems("organizations", service["organization"], tabular=False)
        for identifier in service["organization"].get("organization_identifiers", []):
            found += problems("organization_identifiers", identifier, tabular=False)
    for key, table in NESTED.items():
        for item in service.get(key, []):
            found += problems(table, item, tabular=False)
    for link in service.get("service_at_locations", []):
        location = link.get("location", {})
        found += problems("locations", location, tabular=False)
        for address in location.get("addresses", []):
            found += problems("addresses", address, tabular=False)
        for access in location.get("accessibility", []):
            found += problems("accessibility", access, tabular=False)
    for attribute in service.get("attributes", []):
        if "taxonomy_term" in attribute:
            found += problems("taxonomy_terms", attribute["taxonomy_term"], tabular=False)
    return found


def keys_outside(ours, theirs, path: str = "") -> list[str]:
    """Keys of our nested object that the official object does not have, as paths."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found = []
        for key, value in ours.items():
            if key not in theirs:
                found.append(f"{path}{key}")
            else:
                found += keys_outside(value, theirs[key], f"{path}{key}.")
        return found
    if isinstance(ours, list) and isinstance(theirs, list) and ours and theirs:
        return [p for item in ours for p in keys_outside(item, theirs[0], f"{path}[].")]
    return []


def test_it_accepts_the_official_service_example():
    assert service_problems(official_json("service_full.json")) == []


def test_it_accepts_the_official_csv_tables():
    tables = {}
    for table in REQUIRED:
        with official(f"csv/{table}.csv").open(encoding="utf-8") as handle:
            tables[table] = list(csv.DictReader(handle))

    assert table_problems(tables) == []


def test_it_catches_a_missing_field_and_a_bad_status():
    found = service_problems({"id": "not-a-uuid", "status": "open"})

    assert found == [
        "services.name missing",
        "services.status='open'",
        "services.id not a UUID",
    ]
