"""The append-only audit trail: who did what to which object, when, from where."""

import json

from django.apps import apps
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


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet):
    """The ORM's bulk writes are refused: the trail only grows (see also the triggers)."""

    def update(self, **kwargs):
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit events cannot be deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("audit events cannot be updated")


AuditEventManager = models.Manager.from_queryset(AuditEventQuerySet)


class AuditEvent(models.Model):
    """One event. Rows are chained by hash; they are never updated nor deleted.

    Append-only in three layers: save()/delete() and the queryset refuse in Python; database
    triggers (migration 0003) refuse raw SQL; ``manage.py audit_verify`` detects what got
    past them (someone with the rights to switch triggers off).

    ``details`` never holds personal data: identifiers and codes only.
    Not scoped by django-scopes on purpose: login failures have no organisation, and the
    DPO selectors filter by organisation explicitly.
    """

    at = models.DateTimeField(_("date"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("acteur"),
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organisation"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("type d'objet"), max_length=100, blank=True)
    object_id = models.CharField(_("identifiant de l'objet"), max_length=64, blank=True)
    person_id = models.BigIntegerField(
        _("personne concernée"), null=True, blank=True, db_index=True
    )
    ip = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    details = models.JSONField(_("détails"), default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventManager()

    class Meta:
        verbose_name = _("événement d'audit")
        verbose_name_plural = _("événements d'audit")
        ordering = ["id"]
        # Django's internal queries (related objects, save) use the append-only queryset too.
        base_manager_name = "objects"
        indexes = [
            models.Index(fields=["organisation", "at"]),
            models.Index(fields=["actor", "at"]),
        ]
        constraints = [
            # Two events can never claim the same predecessor: the chain cannot fork, even
            # if a writer skipped the lock in services.audit_log().
            models.UniqueConstraint(fields=["previous_hash"], name="audit_event_one_successor"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        """Insert only: an event already written is never saved again."""
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be updated")
        kwargs["force_insert"] = True  # never an UPDATE, even with a primary key set by hand
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")

    @property
    def actor_display(self) -> str:
        """The staff member's name (or e-mail) for the DPO; empty for system events."""
        if self.actor is None:
            return ""
        return self.actor.get_full_name() or self.actor.email

    @property
    def details_display(self) -> str:
        """``details`` as ``key=value`` pairs, sorted by key."""
        return "; ".join(f"{key}={_plain(value)}" for key, value in sorted(self.details.items()))


def _plain(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)

    @property
    def object_label(self) -> str:
        """The object type as users say it ("adhésion"), or its code if the model is gone."""
        try:
            return str(apps.get_model(self.object_type)._meta.verbose_name)
        except (LookupError, ValueError):
            return self.object_type
