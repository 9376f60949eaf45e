"""The official FHIR examples our exports are compared with, and helpers to compare shapes.

The examples are real files of the shared test data (never copied into the repository):
the HL7 R4 examples and those of the French implementation guides (ANS). The tests here
check that they load and validate, so a comparison that passes is a comparison with a
file that was actually read.
"""

import json
from pathlib import Path

import pytest
from django.conf import settings
from fhir.resources.R4B import get_fhir_model_class

SHARED_FHIR = settings.BASE_DIR.parent / "shared" / "data" / "fhir"
ANNUAIRE = "ansforge-IG-fhir-annuaire"
CAHIER_DE_LIAISON = "ansforge-IG-fhir-cahier-de-liaison"
SAS = "ansforge-IG-fhir-service-acces-aux-soins"
R4 = "hl7.fhir.r4.examples-4.0.1"


def example(folder: str, name: str) -> dict:
    path: Path = SHARED_FHIR / folder / name
    if not path.exists():
        pytest.skip(f"official FHIR example not available at {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def bundle_resource(bundle: dict, resource_type: str) -> dict:
    """The first resource of a type in an example bundle."""
    return next(
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == resource_type
    )


def validate(resource: dict):
    """The resource parsed by the R4B models of fhir.resources (raises if malformed)."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def identifier_kinds(resource: dict) -> set[tuple[str, str, str]]:
    """(type system, type code, identifier system) of each identifier."""
    kinds = set()
    for identifier in resource.get("identifier", []):
        for coding in identifier.get("type", {}).get("coding", []):
            kinds.add((coding["system"], coding["code"], identifier["system"]))
    return kinds


def code_systems(concepts: list[dict]) -> set[str]:
    return {coding["system"] for concept in concepts for coding in concept.get("coding", [])}


def shape(value) -> object:
    """The keys of nested objects, without the values: to compare structures."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


@pytest.mark.parametrize(
    "folder,name",
    [
        (ANNUAIRE, "Practitioner-334081.json"),
        (ANNUAIRE, "PractitionerRole-5015602.json"),
        (ANNUAIRE, "Organization-158480.json"),
        (ANNUAIRE, "Organization-481677.json"),
        (SAS, "Location-1111111111.json"),
        (R4, "Location-1.json"),
        (R4, "HealthcareService-example.json"),
        (R4, "Bundle-bundle-references.json"),
        (CAHIER_DE_LIAISON, "Bundle-cdl-bundle-creation-note.json"),
    ],
)
def test_it_validates_the_official_examples_we_compare_with(folder, name):
    resource = example(folder, name)

    assert validate(resource).id == resource.get("id")


def test_it_reads_the_identifier_kinds_of_an_annuaire_practitioner():
    practitioner = example(ANNUAIRE, "Practitioner-334081.json")

    assert identifier_kinds(practitioner) == {
        (
            "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
            "IDNPS",
            "urn:oid:1.2.250.1.71.4.2.1",
        ),
        (
            "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
            "RPPS",
            "https://rpps.esante.gouv.fr",
        ),
    }
