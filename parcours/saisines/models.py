"""The single entry point: saisines, their timeline, orientations and attachments.

A saisine moves received → triaged → in progress → closed (with an outcome), or → declined
(with a reason); each transition is a service in ``services.py`` that writes a dated
``SaisineEvent`` and an audit event. Delays are read from the timestamps set by those
services (received, first response, decision, closure).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager
from phonenumber_field.modelfields import PhoneNumberField


class Origin(models.TextChoices):
    GP = "gp", _("Médecin généraliste")
    HEALTH_PROFESSIONAL = "health_professional", _("Autre professionnel de santé")
    SOCIAL_WORKER = "social_worker", _("Travailleur social")
    HOSPITAL = "hospital", _("Établissement de santé / PASS")
    EMERGENCY = "emergency", _("Service d'urgences")
    PARTNER = "partner", _("Partenaire")
    RESIDENT = "resident", _("La personne elle-même")
    RELATIVE = "relative", _("Un proche")


class Channel(models.TextChoices):
    WEB = "web", _("Formulaire web")
    PHONE = "phone", _("Téléphone")
    EMAIL = "email", _("E-mail")
    MAIL = "mail", _("Courrier")
    FAX = "fax", _("Fax")
    WALK_IN = "walk_in", _("Accueil physique")


class Bulletin(models.TextChoices):
    SOINS = "soins", _("Bulletin soins")
    MEDICO_SOCIAL = "medico_social", _("Bulletin médico-social")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normale")
    URGENT = "urgent", _("Urgente (sous 48 h)")
    VERY_URGENT = "very_urgent", _("Très urgente (dans la journée)")


class Status(models.TextChoices):
    RECEIVED = "received", _("Reçue")
    TRIAGED = "triaged", _("Analysée")
    IN_PROGRESS = "in_progress", _("En cours")
    CLOSED = "closed", _("Clôturée")
    DECLINED = "declined", _("Non retenue")


class Decision(models.TextChoices):
    INFORMATION = "information", _("Information donnée")
    ORIENTATION = "orientation", _("Orientation vers une ressource")
    MT_SEARCH = "mt_search", _("Recherche d'un médecin traitant")
    OPEN_CASE = "open_case", _("Ouverture d'un accompagnement")
    DECLINE = "decline", _("Non retenue")


class Saisine(models.Model):
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="saisines"
    )
    reference = models.CharField(_("référence"), max_length=20, editable=False)
    origin = models.CharField(_("origine"), max_length=20, choices=Origin.choices)
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("langue du demandeur"), max_length=10, default="fr")
    # Requester: a directory entry, a member, or free contact details.
    requester_professional = models.ForeignKey(
        "directory.Professional", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requester_structure = models.ForeignKey(
        "directory.Structure", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requester_service = models.ForeignKey(
        "directory.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requester_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requester_name = models.CharField(_("nom du demandeur"), max_length=200, blank=True)
    requester_role = models.CharField(_("fonction"), max_length=200, blank=True)
    requester_phone = PhoneNumberField(_("téléphone du demandeur"), blank=True)
    requester_email = models.EmailField(_("e-mail du demandeur"), blank=True)
    requester_email_verified_at = models.DateTimeField(null=True, blank=True)
    # The person, or a description until identified.
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="saisines"
    )
    anonymous_description = models.TextField(_("description de la personne"), blank=True)
    # The bulletin
    bulletin = models.CharField(_("bulletin"), max_length=15, choices=Bulletin.choices)
    difficulty = models.TextField(_("difficulté rencontrée"), blank=True)
    requests = models.JSONField(_("demandes"), default=list, blank=True)  # codes, see forms
    motives = models.JSONField(_("motifs"), default=list, blank=True)
    urgency = models.CharField(
        _("urgence"), max_length=12, choices=Urgency.choices, default=Urgency.NORMAL
    )
    free_text = models.TextField(_("précisions"), blank=True)
    consent_given = models.BooleanField(_("consentement recueilli"), default=False)
    # Workflow
    status = models.CharField(
        _("état"), max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("suivie par"),
    )
    complexity = models.JSONField(_("repérage de la complexité"), default=dict, blank=True)
    complexity_level = models.PositiveSmallIntegerField(
        _("niveau de complexité"), null=True, blank=True
    )
    decision = models.CharField(_("décision"), max_length=15, choices=Decision.choices, blank=True)
    decision_note = models.TextField(_("précisions sur la décision"), blank=True)
    outcome = models.TextField(_("issue"), blank=True)
    decline_reason = models.TextField(_("motif de non-prise en charge"), blank=True)
    mt_informed_at = models.DateTimeField(_("médecin traitant informé le"), null=True, blank=True)
    # Set by the médecin traitant search (parcours/matching) once the person chose a GP.
    mt_found_at = models.DateTimeField(_("médecin traitant trouvé le"), null=True, blank=True)
    # Delays
    received_at = models.DateTimeField(_("reçue le"))
    first_response_at = models.DateTimeField(_("première réponse le"), null=True, blank=True)
    decided_at = models.DateTimeField(_("décision le"), null=True, blank=True)
    closed_at = models.DateTimeField(_("clôturée le"), null=True, blank=True)
    # Public submission: one saisine per submission, whatever the retries.
    submission_key = models.CharField(max_length=64, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("saisine")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "reference"], name="saisine_unique_reference"
            ),
            models.UniqueConstraint(
                fields=["organisation", "submission_key"],
                condition=~models.Q(submission_key=""),
                name="saisine_unique_submission",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="declined") | ~models.Q(decline_reason=""),
                name="saisine_declined_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "status", "received_at"])]

    def __str__(self) -> str:
        return self.reference


class SaisineEvent(models.Model):
    """One dated line of the saisine's timeline (transitions, notes, orientations, messages)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Reçue")
        TRANSITION = "transition", _("Changement d'état")
        NOTE = "note", _("Note")
        DECISION = "decision", _("Décision")
        ORIENTATION = "orientation", _("Orientation")
        MESSAGE = "message", _("Message envoyé")
        MT_INFORMED = "mt_informed", _("Médecin traitant informé")
        MT_FOUND = "mt_found", _("Médecin traitant trouvé")

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    saisine = models.ForeignKey(Saisine, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.saisine_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class Orientation(models.Model):
    """The saisine sent to a directory resource, and its answer (closed loop)."""

    class Status(models.TextChoices):
        SENT = "sent", _("Envoyée")
        ACCEPTED = "accepted", _("Acceptée")
        DECLINED = "declined", _("Refusée")
        DONE = "done", _("Réalisée")
        NO_ANSWER = "no_answer", _("Sans réponse")

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    saisine = models.ForeignKey(Saisine, on_delete=models.CASCADE, related_name="orientations")
    service = models.ForeignKey(
        "directory.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    structure = models.ForeignKey(
        "directory.Structure", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    professional = models.ForeignKey(
        "directory.Professional", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipient_name = models.CharField(_("destinataire"), max_length=300)
    recipient_email = models.EmailField(_("e-mail du destinataire"), blank=True)
    message = models.TextField(_("message"), blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    decline_reason = models.TextField(_("motif du refus"), blank=True)
    sent_at = models.DateTimeField(_("envoyée le"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(_("réponse le"), null=True, blank=True)
    done_at = models.DateTimeField(_("réalisée le"), null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    flagged_at = models.DateTimeField(_("signalée sans réponse le"), null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("orientation")
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"orientation {self.pk} ({self.status})"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # A random name: the original one may hold personal data and is kept in the row only.
    return f"saisines/{instance.organisation_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A document joined to a saisine, stored outside static files, served after a check."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    saisine = models.ForeignKey(Saisine, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    name = models.CharField(_("nom du fichier"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("pièce jointe")

    def __str__(self) -> str:
        return f"attachment {self.pk}"
