from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from parcours.territory.services import communes_import


class Command(BaseCommand):
    help = (
        "Import or refresh the official list of communes (shipped with Parcours, or --source), "
        "with their centres from a CSV (--centres). All or nothing; safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--source", type=Path, help="communes.json(.gz) of @etalab/decoupage-administratif"
        )
        parser.add_argument(
            "--centres", type=Path, help="CSV with INSEE code, latitude and longitude columns"
        )
        parser.add_argument(
            "--skip-unknown",
            action="store_true",
            help="skip (and list) centres of communes missing from the official list",
        )

    def handle(self, *args, source, centres, skip_unknown, **options):
        report = communes_import(source=source, centres=centres, skip_unknown=skip_unknown)
        if not report.ok:
            raise CommandError(report.summary())
        self.stdout.write(report.summary())
