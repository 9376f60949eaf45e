"""HealthcareService, compared with the HL7 R4 example."""

import pytest

from parcours.directory.fhir import healthcare_service_to_fhir
from parcours.directory.tests.directory_factories import ServiceFactory, StructureFactory
from parcours.directory.tests.test_fhir_examples import R4, example, shape, validate

pytestmark = pytest.mark.django_db


def test_it_maps_a_service_to_a_valid_healthcare_service():
    service = ServiceFactory(name="Permanence CCAS")

    parsed = validate(healthcare_service_to_fhir(service))

    assert parsed.name == "Permanence CCAS"
    assert parsed.location[0].reference == f"Location/service-{service.pk}"


def test_it_shapes_the_service_like_the_r4_example():
    official = example(R4, "HealthcareService-example.json")
    service = ServiceFactory(structure=StructureFactory(), phone_public=True, email_public=True)

    resource = healthcare_service_to_fhir(service)

    assert shape(resource["providedBy"]) == {"reference": "str"}
    assert set(resource["providedBy"]) <= set(official["providedBy"])
    assert shape(resource["location"]) == shape(official["location"])
    assert shape(resource["eligibility"]) == [{"comment": "str"}]
    assert set(resource["eligibility"][0]) <= set(official["eligibility"][0])
    official_times = [t for t in official["availableTime"] if "availableStartTime" in t]
    assert shape(resource["availableTime"]) == shape(official_times)


def test_it_turns_opening_hours_into_available_times():
    service = ServiceFactory(
        opening_hours=[
            {"day": 1, "opens": "09:00", "closes": "12:00"},
            {"day": 7, "opens": "10:00", "closes": "11:30"},
        ]
    )

    times = healthcare_service_to_fhir(service)["availableTime"]

    assert times == [
        {"daysOfWeek": ["mon"], "availableStartTime": "09:00:00", "availableEndTime": "12:00:00"},
        {"daysOfWeek": ["sun"], "availableStartTime": "10:00:00", "availableEndTime": "11:30:00"},
    ]


def test_it_names_the_organisation_when_no_structure_provides_the_service():
    service = ServiceFactory(structure=None)

    resource = healthcare_service_to_fhir(service)

    validate(resource)
    assert resource["providedBy"] == {"display": service.organisation.name}


def test_it_exports_public_contacts_only():
    service = ServiceFactory(phone_public=False, email_public=True)

    telecom = healthcare_service_to_fhir(service)["telecom"]

    assert {"system": "email", "value": service.email, "use": "work"} in telecom
    assert service.phone not in [t["value"] for t in telecom]
