from django.core.management.base import BaseCommand

from parcours.core.demo import demo_load


class Command(BaseCommand):
    help = "Load the demo territory (CPTS de Vénissieux) with synthetic users; safe to run twice."

    def handle(self, *args, **options):
        organisation = demo_load()
        self.stdout.write(self.style.SUCCESS(f"Démo prête : {organisation.name}"))
