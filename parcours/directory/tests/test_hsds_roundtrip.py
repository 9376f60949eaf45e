"""Export then import into another organisation gives equivalent services."""

import pytest
from django_scopes import scopes_disabled

from parcours.directory.hsds import (
    hsds_import_services,
    hsds_write_csv,
    hsds_write_json,
    service_to_hsds,
    services_to_hsds,
)
from parcours.directory.models import Circle, Service, Source
from parcours.directory.tests.directory_factories import ServiceFactory, StructureFactory

pytestmark = pytest.mark.django_db

SAME = (
    "name",
    "description",
    "category",
    "circle",
    "thematiques",
    "public_served",
    "eligibility",
    "languages",
    "fees",
    "opening_hours",
    "accessibility",
    "website",
    "address",
    "postal_code",
    "commune_id",
    "latitude",
    "longitude",
    "location_precision",
    "structure_id",
    "checked_on",
    "is_active",
)


@pytest.fixture
def exported(org_a):
    return [
        ServiceFactory(
            organisation=org_a,
            structure=StructureFactory(),
            phone_public=True,
            email_public=True,
        ),
        ServiceFactory(
            organisation=org_a,
            circle=Circle.CARE,
            category="",
            thematiques=["famille--garde-denfants"],  # would infer coordination
            is_active=False,
        ),
    ]


def imported(organisation) -> dict[str, Service]:
    with scopes_disabled():
        return {s.external_id: s for s in Service.objects.filter(organisation=organisation)}


def assert_equivalent(exported, organisation):
    copies = imported(organisation)
    assert len(copies) == len(exported)
    for original in exported:
        copy = copies[service_to_hsds(original)["id"]]
        for name in SAME:
            assert getattr(copy, name) == getattr(original, name), name
        assert copy.source == Source.HSDS
        assert (copy.phone, copy.phone_public) == (
            (original.phone, True) if original.phone_public else ("", False)
        )
        assert copy.email == (original.email if original.email_public else "")


def test_it_round_trips_through_json(exported, org_b, tmp_path):
    path = tmp_path / "services.json"
    hsds_write_json(exported, path)

    report = hsds_import_services(organisation=org_b, path=path)

    assert (report.created, report.rejected) == (2, [])
    assert_equivalent(exported, org_b)


def test_it_round_trips_through_csv(exported, org_b, tmp_path):
    hsds_write_csv(services_to_hsds(exported), tmp_path / "tables")

    report = hsds_import_services(organisation=org_b, path=tmp_path / "tables")

    assert (report.created, report.rejected) == (2, [])
    assert_equivalent(exported, org_b)


def test_it_leaves_private_contacts_behind(org_a, org_b, tmp_path):
    private = ServiceFactory(organisation=org_a, phone_public=False, email_public=False)
    path = tmp_path / "services.json"
    hsds_write_json([private], path)

    hsds_import_services(organisation=org_b, path=path)

    [copy] = imported(org_b).values()
    assert (copy.phone, copy.email) == ("", "")
