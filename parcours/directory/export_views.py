"""Downloads of the organisation's directory in the open formats (HSDS 3, FHIR R4)."""

import json

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from parcours.accounts.access import access
from parcours.accounts.models import Role

from . import exports

EXPORTERS = (Role.COORDINATOR, Role.MANAGER, Role.ADMINISTRATOR)


def _filename(request, suffix: str) -> str:
    return f"annuaire-{request.organisation.slug}-{timezone.localdate():%Y%m%d}.{suffix}"


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@access(*EXPORTERS)
def export_index(request):
    return render(request, "directory/export_index.html")


@access(*EXPORTERS)
def export_fhir(request):
    base_url = request.build_absolute_uri("/fhir").rstrip("/")
    bundle = exports.fhir_export(
        organisation=request.organisation, base_url=base_url, by=request.user
    )
    response = JsonResponse(bundle, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/fhir+json; charset=utf-8"
    return _attachment(response, _filename(request, "fhir.json"))


@access(*EXPORTERS)
def export_hsds_json(request):
    document = exports.hsds_export_json(organisation=request.organisation, by=request.user)
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    return _attachment(response, _filename(request, "hsds.json"))


@access(*EXPORTERS)
def export_hsds_csv(request):
    data = exports.hsds_export_zip(organisation=request.organisation, by=request.user)
    return _attachment(
        HttpResponse(data, content_type="application/zip"), _filename(request, "hsds.zip")
    )
