from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from parcours.accounts.models import Organisation
from parcours.directory.importing import Progress
from parcours.directory.imports import import_search_refresh, search_refreshed_line
from parcours.directory.rpps import rpps_import


class Command(BaseCommand):
    help = (
        "Import the Annuaire Santé extraction PS_LibreAcces_Personne_activite (RPPS): "
        "professionals, structures, practice situations. Batches of 5,000 rows, each all or "
        "nothing; safe to run again after an interruption."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="PS_LibreAcces_Personne_activite_*.txt")
        parser.add_argument("--territory", metavar="ORGANISATION_SLUG", help="only its communes")
        parser.add_argument("--report", type=Path, help="report file (default var/import-rpps-*)")

    def handle(self, *args, path, territory, report, **options):
        organisation = None
        if territory:
            organisation = Organisation.objects.filter(slug=territory).first()
            if organisation is None:
                raise CommandError(f"Organisation inconnue : « {territory} ».")
        result = rpps_import(path=path, organisation=organisation, progress=Progress())
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        report = report or settings.BASE_DIR / "var" / f"import-rpps-{stamp}.txt"
        report.parent.mkdir(parents=True, exist_ok=True)
        result.write(report)
        self.stdout.write(f"{result.summary()}\nRapport : {report}")
        refreshed = import_search_refresh(kind="rpps", report=result)
        self.stdout.write(search_refreshed_line(refreshed))
        if result.error:
            raise CommandError(result.error)
