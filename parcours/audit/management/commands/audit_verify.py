"""Check the audit chain: every event still gives its hash and follows its predecessor."""

from django.core.management.base import BaseCommand, CommandError

from parcours.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Vérifie l'intégrité de la chaîne du journal d'audit (exit 1 au premier maillon rompu)."

    def handle(self, *args, **options):
        result = audit_chain_verify()
        if not result.ok:
            raise CommandError(
                f"Chaîne rompue à l'événement {result.broken_event_id} ({result.problem}) : "
                f"{result.message} {result.count - 1} événements intègres avant lui."
            )
        self.stdout.write(f"OK: {result.count} événements, chaîne intègre")
