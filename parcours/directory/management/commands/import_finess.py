from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from parcours.directory.finess import FinessFileError, finess_import
from parcours.directory.importing import Progress, count_lines
from parcours.directory.imports import import_search_refresh, search_refreshed_line


class Command(BaseCommand):
    help = (
        "Import or refresh the FINESS establishments from the etalab extraction "
        "(etalab_cs1100507_stock_….csv). Resumable and safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the etalab FINESS extraction (CSV)")
        parser.add_argument(
            "--report", type=Path, help="report file (default var/import-finess-<timestamp>.txt)"
        )

    def handle(self, *args, path, report, **options):
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}")
        try:
            result = finess_import(path=path, progress=Progress(total=count_lines(path)))
        except FinessFileError as error:
            raise CommandError(str(error)) from error
        report = (
            report
            or settings.BASE_DIR / "var" / f"import-finess-{timezone.localtime():%Y%m%d-%H%M%S}.txt"
        )
        report.parent.mkdir(parents=True, exist_ok=True)
        result.write(report)
        self.stdout.write(f"{result.summary()}\nRapport : {report}")
        refreshed = import_search_refresh(kind="finess", report=result)
        self.stdout.write(search_refreshed_line(refreshed))
