from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from parcours.accounts.models import Organisation
from parcours.directory.hsds import hsds_import_services
from parcours.directory.imports import import_search_refresh, search_refreshed_line


class Command(BaseCommand):
    help = (
        "Create or update an organisation's services from Open Referral HSDS 3: a JSON file "
        "(a list of services) or a folder of CSV tables (services.csv, organizations.csv…)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="HSDS JSON file or folder of CSV tables")
        parser.add_argument("--organisation", required=True, help="the organisation's slug")

    def handle(self, *args, path, organisation, **options):
        found = Organisation.objects.filter(slug=organisation).first()
        if found is None:
            raise CommandError(f"Organisation inconnue : {organisation}")
        if not path.exists():
            raise CommandError(f"Fichier introuvable : {path}")
        report = hsds_import_services(organisation=found, path=path)
        self.stdout.write(report.summary())
        refreshed = import_search_refresh(kind="hsds", report=report, organisation=found)
        self.stdout.write(search_refreshed_line(refreshed))
        for rejection in report.rejected[:50]:
            self.stdout.write(f"  ligne {rejection.line} : {rejection.reason}")
