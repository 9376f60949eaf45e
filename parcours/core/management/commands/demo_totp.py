from django.core.management.base import BaseCommand

from parcours.core.demo import demo_totp_codes


class Command(BaseCommand):
    help = "Print the current second-factor (TOTP) code of each demo staff account."

    def handle(self, *args, **options):
        for email, _secret, code in demo_totp_codes():
            self.stdout.write(f"{code}  {email}")
