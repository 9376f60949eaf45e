"""Exports of an organisation's directory: HSDS 3 (CSV tables or JSON) and a FHIR R4 Bundle.

What is exported: the organisation's active services (HSDS and FHIR), and, in FHIR, the
professionals and structures active in the communes of its territory. Only public contact
fields leave the application (the mappings in ``hsds.py`` and ``fhir.py`` see to it). The
FHIR Bundle is validated with the R4B models of ``fhir.resources`` (R4B keeps R4's directory
resources) before it is handed out, so a malformed export fails loudly, not at a partner's.
"""

import io
import tempfile
import zipfile
from pathlib import Path

from django.db.models import QuerySet
from fhir.resources.R4B import get_fhir_model_class

from parcours.accounts.models import Organisation
from parcours.audit.models import Action
from parcours.audit.services import audit_log

from .fhir import directory_bundle
from .hsds import hsds_write_csv, service_to_hsds, services_to_hsds
from .models import PracticeSituation, Professional, Service, Structure


def _services(organisation: Organisation) -> QuerySet[Service]:
    return (
        Service.objects.filter(organisation=organisation, is_active=True)
        .select_related("commune", "structure", "structure__commune")
        .prefetch_related("communes_served")
        .order_by("name", "pk")
    )


def _territory_insee(organisation: Organisation) -> QuerySet:
    from parcours.territory.models import Commune

    return Commune.objects.filter(territories__organisation=organisation).values("insee")


def territory_professionals(organisation: Organisation) -> QuerySet[Professional]:
    """Active professionals practising in the territory, with those situations only."""
    situations = PracticeSituation.objects.filter(
        is_active=True, commune__in=_territory_insee(organisation)
    )
    return (
        Professional.objects.filter(is_active=True, situations__in=situations)
        .distinct()
        .order_by("rpps")
    )


def territory_structures(organisation: Organisation) -> QuerySet[Structure]:
    return Structure.objects.filter(
        is_active=True, commune__in=_territory_insee(organisation)
    ).order_by("pk")


def fhir_export(*, organisation: Organisation, base_url: str | None = None, by=None) -> dict:
    """The FHIR R4 Bundle (collection) of the organisation's directory, validated."""
    bundle = directory_bundle(
        professionals=territory_professionals(organisation),
        structures=territory_structures(organisation),
        services=_services(organisation),
        base_url=base_url,
    )
    get_fhir_model_class("Bundle").model_validate(bundle)
    _audit(organisation, by, "fhir", len(bundle["entry"]))
    return bundle


def hsds_export_json(*, organisation: Organisation, by=None) -> list[dict]:
    """The organisation's services as HSDS 3 service objects (nested)."""
    document = [service_to_hsds(service) for service in _services(organisation)]
    _audit(organisation, by, "hsds-json", len(document))
    return document


def hsds_export_zip(*, organisation: Organisation, by=None) -> bytes:
    """The HSDS 3 tables as CSV files (services.csv, organizations.csv…) in a zip."""
    services = list(_services(organisation))
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(buffer, "w") as archive:
        for path in hsds_write_csv(services_to_hsds(services), Path(folder)):
            archive.write(path, arcname=path.name)
    _audit(organisation, by, "hsds-csv", len(services))
    return buffer.getvalue()


def _audit(organisation: Organisation, by, export_format: str, count: int) -> None:
    audit_log(
        action=Action.EXPORT,
        actor=by,
        organisation=organisation,
        object_type="directory.export",
        details={"format": export_format, "count": count},
    )
