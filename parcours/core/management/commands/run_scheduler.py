import time

from django.core.management.base import BaseCommand

from parcours.core.scheduler import jobs_enqueue_due


class Command(BaseCommand):
    help = "Enqueue the periodic jobs when they are due (run alongside db_worker)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=int, default=30, help="seconds between checks")
        parser.add_argument("--once", action="store_true", help="check once and exit")

    def handle(self, *args, interval: int, once: bool, **options):
        while True:
            for name in jobs_enqueue_due():
                self.stdout.write(f"enqueued {name}")
            if once:
                return
            time.sleep(interval)
