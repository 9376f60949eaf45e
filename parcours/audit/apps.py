from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "parcours.audit"
    label = "audit"
    verbose_name = _("Journal d'audit")

    def ready(self):
        from .db import register_sqlite_functions

        # The SQLite DELETE trigger calls a function that every connection must know.
        connection_created.connect(register_sqlite_functions, dispatch_uid="audit_sqlite_functions")
