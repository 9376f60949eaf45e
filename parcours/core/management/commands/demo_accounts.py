from django.core.management.base import BaseCommand

from parcours.accounts.models import STAFF_ROLES
from parcours.core.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_totp_codes


class Command(BaseCommand):
    help = "Print the demo accounts, their password and how to get second-factor codes."

    def handle(self, *args, **options):
        secrets = {email: secret for email, secret, _ in demo_totp_codes()}
        self.stdout.write(f"\nComptes de démonstration (mot de passe : {DEMO_PASSWORD})\n")
        for account in DEMO_ACCOUNTS:
            line = f"  {account.role.label:<28} {account.email}"
            if account.role in STAFF_ROLES:
                line += f"   TOTP : {secrets.get(account.email, '?')}"
            self.stdout.write(line)
        self.stdout.write(
            "\nDouble authentification : les comptes coordination, direction et admin la demandent."
            "\nCode du moment : .venv/bin/python manage.py demo_totp"
            "\n(ou ajoutez le secret TOTP ci-dessus dans une application d'authentification).\n"
        )
