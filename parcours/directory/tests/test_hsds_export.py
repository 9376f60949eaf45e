"""HSDS 3.0 export of the organisation's services, checked against the official examples."""

import csv
import json
import uuid

import pytest

from parcours.directory.hsds import (
    HSDS_NAMESPACE,
    hsds_write_csv,
    hsds_write_json,
    service_to_hsds,
    services_to_hsds,
)
from parcours.directory.models import Circle
from parcours.directory.tests.directory_factories import ServiceFactory, StructureFactory
from parcours.directory.tests.test_hsds_schema import (
    keys_outside,
    official_header,
    official_json,
    service_problems,
    table_problems,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def services(org_a):
    return [
        ServiceFactory(
            organisation=org_a,
            structure=StructureFactory(siret="12345678900011"),
            phone_public=True,
            email_public=True,
        ),
        ServiceFactory(
            organisation=org_a,
            circle=Circle.HOUSING,
            thematiques=["logement-hebergement--etre-accompagne-pour-se-loger"],
            address="",
            postal_code="",
            commune=None,
            latitude=None,
            longitude=None,
            accessibility="",
            opening_hours=[],
        ),
    ]


def test_it_gives_stable_uuids_per_object(services):
    service = services[0]

    first, again = service_to_hsds(service), service_to_hsds(service)

    assert first == again
    assert first["id"] == str(uuid.uuid5(HSDS_NAMESPACE, f"directory.service:{service.pk}"))
    assert first["organization"]["id"] == str(
        uuid.uuid5(HSDS_NAMESPACE, f"directory.structure:{service.structure.pk}")
    )


def test_it_produces_tables_that_meet_the_hsds_requirements(services):
    tables = services_to_hsds(services)

    assert table_problems(tables) == []
    assert len(tables["services"]) == 2
    assert len(tables["organizations"]) == 2  # the structure, and org A for the other
    assert len(tables["locations"]) == 1


def test_it_uses_only_columns_of_the_official_tables(services):
    tables = services_to_hsds(services)

    for table, rows in tables.items():
        header = official_header(table)
        for row in rows:
            assert set(row) <= set(header), (table, set(row) - set(header))


def test_it_produces_service_objects_shaped_like_the_official_example(services):
    example = official_json("service_full.json")

    for service in services:
        document = service_to_hsds(service)
        assert service_problems(document) == []
        assert keys_outside(document, example) == []


def test_it_links_every_row_to_an_exported_parent(services):
    tables = services_to_hsds(services)

    ids = {table: {row["id"] for row in rows} for table, rows in tables.items()}
    for row in tables["services"]:
        assert row["organization_id"] in ids["organizations"]
    for row in tables["service_at_location"]:
        assert row["service_id"] in ids["services"]
        assert row["location_id"] in ids["locations"]
    for table in ("phones", "schedules", "languages"):
        assert {row["service_id"] for row in tables[table]} <= ids["services"]
    for row in tables["attributes"]:
        assert row["link_id"] in ids["services"]
        assert row["taxonomy_term_id"] in ids["taxonomy_terms"]


def test_it_maps_opening_hours_to_weekly_schedules(services):
    document = service_to_hsds(services[0])

    slots = [
        {k: s[k] for k in ("freq", "byday", "opens_at", "closes_at")} for s in document["schedules"]
    ]
    assert slots == [
        {"freq": "WEEKLY", "byday": "MO", "opens_at": "09:00", "closes_at": "12:00"},
        {"freq": "WEEKLY", "byday": "WE", "opens_at": "14:00", "closes_at": "17:30"},
    ]


def test_it_maps_languages_to_language_rows(services):
    languages = service_to_hsds(services[0])["languages"]

    assert [(row["code"], row["name"]) for row in languages] == [
        ("fr", "français"),
        ("ar", "arabe"),
    ]


def test_it_gives_the_address_in_france(services):
    location = service_to_hsds(services[0])["service_at_locations"][0]["location"]

    address = location["addresses"][0]
    assert (address["postal_code"], address["city"], address["country"]) == (
        "69200",
        "Vénissieux",
        "FR",
    )
    assert (location["latitude"], location["longitude"]) == (45.6975, 4.8867)


def test_it_carries_thematiques_and_circle_as_attributes(services):
    attributes = service_to_hsds(services[1])["attributes"]

    terms = {(a["taxonomy_term"]["taxonomy"], a["taxonomy_term"]["code"]) for a in attributes}
    assert ("parcours:cercle", "housing") in terms
    assert (
        "data-inclusion:thematiques",
        "logement-hebergement--etre-accompagne-pour-se-loger",
    ) in terms


def test_it_exports_public_contacts_only(org_a):
    private = ServiceFactory(organisation=org_a, phone_public=False, email_public=False)

    text = json.dumps(services_to_hsds([private])) + json.dumps(service_to_hsds(private))

    assert private.phone not in text
    assert private.email not in text


def test_it_writes_csv_tables(services, tmp_path):
    written = hsds_write_csv(services_to_hsds(services), tmp_path)

    assert tmp_path / "services.csv" in written
    with (tmp_path / "services.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["name"] for row in rows} == {s.name for s in services}


def test_it_writes_one_json_document(services, tmp_path):
    path = tmp_path / "services.json"

    hsds_write_json(services, path)

    document = json.loads(path.read_text(encoding="utf-8"))
    assert document == [service_to_hsds(service) for service in services]
