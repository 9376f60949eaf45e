from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from parcours.accounts.models import Organisation
from parcours.accounts.services import invitation_url, organisation_create


class Command(BaseCommand):
    help = "Create an organisation (tenant) and invite its first administrator by e-mail."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--kind", required=True, choices=Organisation.Kind.values)
        parser.add_argument("--admin-email", required=True)

    def handle(self, *args, name, slug, kind, admin_email, **options):
        try:
            with scopes_disabled():
                invitation = organisation_create(
                    name=name, slug=slug, kind=kind, admin_email=admin_email
                )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(
            f"Organisation {slug} créée ; invitation envoyée. Lien : {invitation_url(invitation)}"
        )
