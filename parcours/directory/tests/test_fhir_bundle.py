"""The directory Bundle: every resource once, every reference resolved inside it."""

import json

import pytest

from parcours.directory.fhir import directory_bundle
from parcours.directory.tests.directory_factories import (
    PracticeSituationFactory,
    ProfessionalFactory,
    ServiceFactory,
    StructureFactory,
)
from parcours.directory.tests.test_fhir_examples import R4, example, shape, validate

pytestmark = pytest.mark.django_db

BASE = "https://parcours.example.org/fhir"
NOWHERE = {"address": "", "postal_code": "", "commune": None, "latitude": None, "longitude": None}


def references(value) -> list[str]:
    found = []
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            found.append(value["reference"])
        for item in value.values():
            found += references(item)
    elif isinstance(value, list):
        for item in value:
            found += references(item)
    return found


@pytest.fixture
def territory():
    shared = StructureFactory(phone_public=True)
    dr = ProfessionalFactory()
    PracticeSituationFactory(professional=dr, structure=shared)
    PracticeSituationFactory(professional=dr, structure=None)
    nurse = ProfessionalFactory(profession_code="60", profession="Infirmier", savoir_faire_code="")
    PracticeSituationFactory(professional=nurse, structure=shared)
    service = ServiceFactory(structure=shared)
    return {
        "professionals": [dr, nurse],
        "structures": [shared, StructureFactory(**NOWHERE)],
        "services": [service, ServiceFactory(structure=None)],
    }


def test_it_builds_a_valid_collection_bundle(territory):
    bundle = directory_bundle(**territory, base_url=BASE)

    parsed = validate(bundle)
    assert parsed.type == "collection"
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds.count("Practitioner") == 2
    assert kinds.count("PractitionerRole") == 3
    assert kinds.count("Organization") == 2  # the shared structure once
    assert kinds.count("HealthcareService") == 2
    assert kinds.count("Location") == 3 + 1 + 2  # situations, the located structure, services


def test_it_resolves_every_reference_inside_the_bundle(territory):
    bundle = directory_bundle(**territory, base_url=BASE)

    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    found = references(bundle)
    assert found
    for reference in found:
        assert f"{BASE}/{reference}" in full_urls, reference


def test_it_names_each_entry_by_its_resource(territory):
    bundle = directory_bundle(**territory, base_url=BASE)

    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert entry["fullUrl"] == f"{BASE}/{resource['resourceType']}/{resource['id']}"
    assert len({entry["fullUrl"] for entry in bundle["entry"]}) == len(bundle["entry"])


def test_it_shapes_entries_like_the_r4_collection_example(territory):
    official = example(R4, "Bundle-bundle-references.json")

    bundle = directory_bundle(**territory, base_url=BASE)

    assert bundle["type"] == official["type"] == "collection"
    assert set(shape(bundle["entry"][0])) == {"fullUrl", "resource"}
    assert set(shape(bundle["entry"][0])) <= set(shape(official["entry"][0]))


def test_it_defaults_the_base_to_the_site_url(territory, settings):
    settings.SITE_URL = "https://annuaire.example.fr"

    bundle = directory_bundle(**territory)

    assert bundle["entry"][0]["fullUrl"].startswith("https://annuaire.example.fr/fhir/")


def test_it_leaks_no_private_contact(territory):
    private = []
    for kind in ("structures", "services"):
        for item in territory[kind]:
            if not item.phone_public:
                private.append(item.phone)
            if not item.email_public:
                private.append(item.email)
    for professional in territory["professionals"]:
        for situation in professional.situations.all():
            private += [situation.phone, situation.email]

    text = json.dumps(directory_bundle(**territory, base_url=BASE), ensure_ascii=False)

    assert private
    for value in private:
        assert value not in text
    assert territory["structures"][0].phone in text  # the public one is there
