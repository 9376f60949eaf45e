"""Practitioner and PractitionerRole, compared with the Annuaire Santé examples."""

import pytest

from parcours.directory.fhir import (
    IDNPS_SYSTEM,
    MODE_SYSTEM,
    PROFESSION_SYSTEM,
    SPECIALTY_SYSTEM,
    practitioner_role_to_fhir,
    practitioner_to_fhir,
)
from parcours.directory.models import PracticeSituation
from parcours.directory.tests.directory_factories import (
    PracticeSituationFactory,
    ProfessionalFactory,
)
from parcours.directory.tests.test_fhir_examples import (
    ANNUAIRE,
    CAHIER_DE_LIAISON,
    SAS,
    bundle_resource,
    code_systems,
    example,
    identifier_kinds,
    shape,
    validate,
)

pytestmark = pytest.mark.django_db


def test_it_maps_a_professional_to_a_valid_practitioner():
    professional = ProfessionalFactory(
        rpps="10003461033", last_name="Saucier", first_name="Arthur", sex="M"
    )

    resource = practitioner_to_fhir(professional)

    parsed = validate(resource)
    assert parsed.name[0].family == "Saucier"
    assert parsed.name[0].given == ["Arthur"]
    assert parsed.gender == "male"


def test_it_identifies_the_practitioner_as_the_annuaire_sante_does():
    official = example(ANNUAIRE, "Practitioner-334081.json")
    professional = ProfessionalFactory(rpps="10003461033")

    resource = practitioner_to_fhir(professional)

    assert identifier_kinds(resource) == identifier_kinds(official)
    values = {i["system"]: i["value"] for i in resource["identifier"]}
    official_values = {i["system"]: i["value"] for i in official["identifier"]}
    assert values == official_values  # IDNPS "8" + RPPS, RPPS as is
    assert values[IDNPS_SYSTEM] == "810003461033"


def test_it_shapes_name_and_qualification_like_the_annuaire_example():
    official = example(ANNUAIRE, "Practitioner-334081.json")

    resource = practitioner_to_fhir(ProfessionalFactory(civility_code="M"))

    assert shape(resource["name"]) == shape(official["name"])
    official_qualifications = [q["code"] for q in official["qualification"]]
    assert PROFESSION_SYSTEM in code_systems(official_qualifications)
    ours = [q["code"] for q in resource["qualification"]]
    assert {PROFESSION_SYSTEM, SPECIALTY_SYSTEM} <= code_systems(ours)
    assert code_systems(resource["communication"]) == code_systems(official["communication"])


def test_it_keeps_unknown_sex_and_empty_first_name_out():
    resource = practitioner_to_fhir(ProfessionalFactory(sex="", first_name="", languages=[]))

    validate(resource)
    assert "gender" not in resource
    assert "given" not in resource["name"][0]
    assert "communication" not in resource


def test_it_gives_other_savoir_faire_as_text_only():
    professional = ProfessionalFactory(savoir_faire_code="PAC00", savoir_faire="Qualif. PAC")

    resource = practitioner_to_fhir(professional)

    validate(resource)
    assert {"text": "Qualif. PAC"} in [q["code"] for q in resource["qualification"]]


def test_it_maps_a_situation_to_a_valid_practitioner_role():
    situation = PracticeSituationFactory()

    resource = practitioner_role_to_fhir(situation)

    parsed = validate(resource)
    assert parsed.practitioner.reference == f"Practitioner/{situation.professional.pk}"
    assert parsed.organization.reference == f"Organization/{situation.structure.pk}"
    assert parsed.location[0].reference == f"Location/situation-{situation.pk}"


def test_it_shapes_the_role_like_the_annuaire_example():
    official = example(ANNUAIRE, "PractitionerRole-5015602.json")
    situation = PracticeSituationFactory(mode=PracticeSituation.Mode.LIBERAL)

    resource = practitioner_role_to_fhir(situation)

    for key in ("practitioner", "organization"):
        assert set(resource[key]) >= set(official[key])
    # Mode d'exercice coded as in the example ("L", TRE_R23).
    official_modes = [c for c in official["code"] if code_systems([c]) == {MODE_SYSTEM}]
    ours = [c for c in resource["code"] if code_systems([c]) == {MODE_SYSTEM}]
    assert [c["coding"][0]["code"] for c in ours] == [
        c["coding"][0]["code"] for c in official_modes
    ]


def test_it_codes_profession_and_specialty_like_the_french_examples():
    # Profession in PractitionerRole.code: cahier de liaison (as-practitionerrole);
    # savoir-faire (TRE_R38) as specialty: service d'accès aux soins.
    cdl_role = bundle_resource(
        example(CAHIER_DE_LIAISON, "Bundle-cdl-bundle-creation-note.json"), "PractitionerRole"
    )
    sas_slot = example(SAS, "Slot-ExampleSlotPSIndiv1.json")
    situation = PracticeSituationFactory(professional=ProfessionalFactory(savoir_faire_code="SM54"))

    resource = practitioner_role_to_fhir(situation)

    assert code_systems(cdl_role["code"]) <= code_systems(resource["code"])
    assert code_systems(resource["specialty"]) == code_systems(sas_slot["specialty"])
    assert resource["specialty"][0]["coding"][0]["code"] == "SM54"


def test_it_leaves_organization_and_location_out_when_unknown():
    situation = PracticeSituationFactory(
        structure=None,
        address="",
        postal_code="",
        commune=None,
        latitude=None,
        longitude=None,
        mode="",
    )

    resource = practitioner_role_to_fhir(situation)

    validate(resource)
    assert "organization" not in resource
    assert "location" not in resource
    assert code_systems(resource["code"]) == {PROFESSION_SYSTEM}


def test_it_exports_public_contacts_only():
    private = PracticeSituationFactory(phone_public=False, email_public=False)
    public = PracticeSituationFactory(phone_public=True, email_public=False)

    assert "telecom" not in practitioner_role_to_fhir(private)
    assert practitioner_role_to_fhir(public)["telecom"] == [
        {"system": "phone", "value": public.phone, "use": "work"}
    ]
