import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope

from parcours.accounts.models import Organisation
from parcours.directory.exports import fhir_export, hsds_export_json, hsds_export_zip


class Command(BaseCommand):
    help = (
        "Export an organisation's directory: HSDS 3 (CSV tables in a zip, or JSON) or a "
        "FHIR R4 Bundle (professionals and structures of its territory, its services)."
    )

    def add_arguments(self, parser):
        parser.add_argument("output", type=Path, help="file to write")
        parser.add_argument("--organisation", required=True, help="the organisation's slug")
        parser.add_argument(
            "--format",
            dest="export_format",
            choices=("fhir", "hsds-json", "hsds-csv"),
            required=True,
        )
        parser.add_argument("--base-url", help="FHIR fullUrl base (default SITE_URL/fhir)")

    def handle(self, *args, output, organisation, export_format, base_url, **options):
        found = Organisation.objects.filter(slug=organisation).first()
        if found is None:
            raise CommandError(f"Organisation inconnue : {organisation}")
        with scope(organisation=found):
            if export_format == "hsds-csv":
                output.write_bytes(hsds_export_zip(organisation=found))
            else:
                document = (
                    fhir_export(organisation=found, base_url=base_url)
                    if export_format == "fhir"
                    else hsds_export_json(organisation=found)
                )
                output.write_text(json.dumps(document, ensure_ascii=False, indent=1), "utf-8")
        self.stdout.write(f"Export {export_format} écrit : {output}")
