"""Exports of an organisation's directory: what is in them, what is not, who may download."""

import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scopes_disabled

from parcours.audit.models import AuditEvent
from parcours.territory.services import territory_load_demo

from .directory_factories import (
    CommuneFactory,
    PracticeSituationFactory,
    ServiceFactory,
    StructureFactory,
)
from .test_fhir_examples import validate

pytestmark = pytest.mark.django_db

RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
FINESS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"


@pytest.fixture
def directory(org_a, org_b):
    with scopes_disabled():
        territory_load_demo(organisation=org_a)  # Vénissieux and its neighbours
    paris = CommuneFactory(insee="75056", name="Paris", departement="75", region="11")
    here = PracticeSituationFactory(
        professional__rpps="10000000017", professional__last_name="Ici", phone_public=False
    )
    elsewhere = PracticeSituationFactory(
        professional__rpps="10000000025",
        professional__last_name="Ailleurs",
        commune=paris,
        structure=StructureFactory(commune=paris, finess_et="750000000"),
    )
    ServiceFactory(organisation=org_a, name="CCAS A", phone="04 00 00 00 01", phone_public=False)
    ServiceFactory(organisation=org_b, name="Service secret B")
    return {"here": here, "elsewhere": elsewhere}


def identifiers(bundle, resource_type):
    return {
        (identifier["system"], identifier["value"])
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == resource_type
        for identifier in entry["resource"].get("identifier", [])
    }


def test_the_fhir_export_holds_the_territory_and_the_organisation_services(
    client, claire, directory
):
    client.force_login(claire)
    response = client.get("/annuaire/export/fhir.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert "attachment" in response["Content-Disposition"]
    bundle = json.loads(response.content)
    assert validate(bundle).type == "collection"
    practitioners = identifiers(bundle, "Practitioner")
    # IDNPS = "8" + RPPS number (ANS annuaire profile)
    assert (RPPS_SYSTEM, "810000000017") in practitioners
    assert (RPPS_SYSTEM, "810000000025") not in practitioners  # practises outside the territory
    assert (FINESS_SYSTEM, "1" + directory["here"].structure.finess_et) in identifiers(
        bundle, "Organization"
    )
    names = {
        e["resource"]["name"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "HealthcareService"
    }
    assert "CCAS A" in names and "Service secret B" not in names
    text = response.content.decode()
    assert directory["here"].phone not in text and "04 00 00 00 01" not in text  # private
    event = AuditEvent.objects.get(action="export")
    assert (event.actor, event.details["format"]) == (claire, "fhir")


def test_the_hsds_exports_hold_the_organisation_services_only(client, claire, directory):
    client.force_login(claire)
    document = json.loads(client.get("/annuaire/export/hsds.json").content)
    assert [service["name"] for service in document] == ["CCAS A"]
    archive = zipfile.ZipFile(io.BytesIO(client.get("/annuaire/export/hsds.zip").content))
    assert "services.csv" in archive.namelist() and "organizations.csv" in archive.namelist()
    services = archive.read("services.csv").decode()
    assert "CCAS A" in services and "Service secret B" not in services
    assert "04 00 00 00 01" not in "".join(archive.read(n).decode() for n in archive.namelist())
    assert AuditEvent.objects.filter(action="export").count() == 2


def test_the_command_writes_each_format(tmp_path, org_a, directory):
    for export_format, name in (("fhir", "b.json"), ("hsds-json", "s.json"), ("hsds-csv", "s.zip")):
        call_command(
            "export_directory",
            str(tmp_path / name),
            organisation=org_a.slug,
            export_format=export_format,
        )
    assert validate(json.loads((tmp_path / "b.json").read_text()))
    assert json.loads((tmp_path / "s.json").read_text())[0]["name"] == "CCAS A"
    assert zipfile.is_zipfile(tmp_path / "s.zip")


def test_the_command_refuses_an_unknown_organisation_in_french(tmp_path, db):
    with pytest.raises(CommandError, match="Organisation inconnue"):
        call_command(
            "export_directory", str(tmp_path / "x"), organisation="nope", export_format="fhir"
        )
