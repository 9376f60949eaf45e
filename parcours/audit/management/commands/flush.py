"""Django's ``flush``, able to empty the append-only audit table in the test suite only.

Outside tests the triggers still refuse, so ``flush`` fails and rolls back as a whole:
a database that holds an audit trail is not emptied by a management command.
"""

from django.conf import settings
from django.core.management.commands import flush

from parcours.audit.db import audit_purge_allowed


class Command(flush.Command):
    def handle(self, **options):
        if not getattr(settings, "TESTING", False):
            return super().handle(**options)
        with audit_purge_allowed(using=options["database"]):
            return super().handle(**options)
