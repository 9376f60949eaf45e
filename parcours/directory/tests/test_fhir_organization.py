"""Organization and Location, compared with the Annuaire Santé and HL7 R4 examples."""

import pytest

from parcours.directory.fhir import (
    FINESS_SYSTEM,
    IDNST_SYSTEM,
    INSEE_CODE_EXTENSION,
    location_to_fhir,
    organization_to_fhir,
)
from parcours.directory.tests.directory_factories import (
    PracticeSituationFactory,
    ServiceFactory,
    StructureFactory,
)
from parcours.directory.tests.test_fhir_examples import (
    ANNUAIRE,
    R4,
    SAS,
    example,
    identifier_kinds,
    shape,
    validate,
)

pytestmark = pytest.mark.django_db


def test_it_maps_a_structure_to_a_valid_organization():
    structure = StructureFactory(name="CH EURE-SEINE")

    parsed = validate(organization_to_fhir(structure))

    assert parsed.name == "CH EURE-SEINE"
    assert parsed.active is True


def test_it_identifies_the_organization_as_the_annuaire_sante_does():
    geographic = example(ANNUAIRE, "Organization-158480.json")  # IDNST + FINEG
    legal = example(ANNUAIRE, "Organization-481677.json")  # IDNST + FINEJ
    structure = StructureFactory(finess_et="754567860", finess_ej="580008803")

    resource = organization_to_fhir(structure)

    wanted = {
        kind
        for kind in identifier_kinds(geographic) | identifier_kinds(legal)
        if kind[1] in ("IDNST", "FINEG", "FINEJ")
    }
    assert identifier_kinds(resource) == wanted
    values = {i["type"]["coding"][0]["code"]: i["value"] for i in resource["identifier"]}
    assert values["IDNST"] == "1754567860"  # as in Organization-158480
    assert values["FINEG"] == "754567860"
    assert values["FINEJ"] == "580008803"


def test_it_falls_back_on_the_siret_for_the_national_identifier():
    structure = StructureFactory(finess_et=None, finess_ej="", siret="12345678900011")

    resource = organization_to_fhir(structure)

    validate(resource)
    assert [(i["system"], i["value"]) for i in resource["identifier"]] == [
        (IDNST_SYSTEM, "312345678900011")
    ]
    assert FINESS_SYSTEM not in {i["system"] for i in resource["identifier"]}


def test_it_shapes_the_address_like_the_annuaire_example():
    official = example(ANNUAIRE, "Organization-example-organization-fictive.json")
    structure = StructureFactory(address="R DE LA LIBERTE", postal_code="69200")

    address = organization_to_fhir(structure)["address"][0]

    assert address["extension"][0]["url"] == INSEE_CODE_EXTENSION
    assert (
        address["extension"][0]["valueCoding"]["system"]
        == (official["address"][0]["extension"][0]["valueCoding"]["system"])
    )
    assert address["extension"][0]["valueCoding"]["code"] == "69259"
    assert address["line"] == ["R DE LA LIBERTE"]
    assert (address["city"], address["postalCode"], address["country"]) == (
        "Vénissieux",
        "69200",
        "FR",
    )
    for key in ("line", "city", "postalCode"):
        assert shape(address[key]) == shape(official["address"][0][key])


def test_it_exports_public_contacts_only():
    private = StructureFactory(phone_public=False, email_public=False)
    public = StructureFactory(phone_public=True, email_public=True)

    assert "telecom" not in organization_to_fhir(private)
    assert [t["system"] for t in organization_to_fhir(public)["telecom"]] == ["phone", "email"]


@pytest.mark.parametrize(
    "factory,prefix",
    [
        (PracticeSituationFactory, "situation"),
        (StructureFactory, "structure"),
        (ServiceFactory, "service"),
    ],
)
def test_it_maps_every_place_to_a_valid_location(factory, prefix):
    place = factory(latitude=45.6975, longitude=4.8867)

    resource = location_to_fhir(place)

    parsed = validate(resource)
    assert parsed.id == f"{prefix}-{place.pk}"
    assert float(parsed.position.latitude) == 45.6975
    assert float(parsed.position.longitude) == 4.8867
    assert parsed.address.country == "FR"


def test_it_shapes_the_location_like_the_r4_and_sas_examples():
    r4 = example(R4, "Location-1.json")
    sas = example(SAS, "Location-1111111111.json")
    situation = PracticeSituationFactory(phone_public=True)

    resource = location_to_fhir(situation)

    assert shape(resource["position"]) == {"latitude": "float", "longitude": "float"}
    assert set(resource["position"]) <= set(r4["position"])
    for key in ("line", "city", "postalCode"):
        assert shape(resource["address"][key]) == shape(sas["address"][key])
    assert resource["managingOrganization"] == {
        "reference": f"Organization/{situation.structure.pk}"
    }
    assert shape(resource["managingOrganization"]) == shape(sas["managingOrganization"])
    assert resource["telecom"][0]["system"] == sas["telecom"][0]["system"]


def test_it_leaves_position_out_when_not_located():
    structure = StructureFactory(latitude=None, longitude=None)

    resource = location_to_fhir(structure)

    validate(resource)
    assert "position" not in resource
