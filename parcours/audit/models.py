"""The append-only audit trail: who did what to which object, when, from where."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    READ = "read", _("Consultation")
    CREATE = "create", _("Création")
    UPDATE = "update", _("Modification")
    DELETE = "delete", _("Suppression")
    EXPORT = "export", _("Export")
    LOGIN = "login", _("Connexion")
    LOGIN_FAILED = "login_failed", _("Échec de connexion")
    LINK_OPENED = "link_opened", _("Lien ouvert")


class AuditEvent(models.Model):
    """One event. Rows are chained by hash; they are never updated nor deleted.

    ``details`` never holds personal data: identifiers and codes only.
    Not scoped by django-scopes on purpose: login failures have no organisation, and the
    DPO selectors filter by organisation explicitly.
    """

    at = models.DateTimeField(_("date"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("acteur"),
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("organisation"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("type d'objet"), max_length=100, blank=True)
    object_id = models.CharField(_("identifiant de l'objet"), max_length=64, blank=True)
    person_id = models.BigIntegerField(_("personne concernée"), null=True, blank=True, db_index=True)
    ip = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    details = models.JSONField(_("détails"), default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("événement d'audit")
        ordering = ["id"]
        indexes = [models.Index(fields=["organisation", "at"]), models.Index(fields=["actor", "at"])]
