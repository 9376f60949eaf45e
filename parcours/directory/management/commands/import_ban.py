from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from parcours.directory.geocoding import ban_import
from parcours.directory.importing import Progress


class Command(BaseCommand):
    help = "Load a Base Adresse Nationale file (adresses-XX.csv or .csv.gz) for offline geocoding."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)

    def handle(self, *args, paths, **options):
        for path in paths:
            if not path.exists():
                raise CommandError(f"Fichier introuvable : {path}")
            report = ban_import(path=path, progress=Progress(stream=self.stderr))
            self.stdout.write(report.summary())
            for rejection in report.rejected[:20]:
                self.stdout.write(f"  ligne {rejection.line} : {rejection.reason}")
