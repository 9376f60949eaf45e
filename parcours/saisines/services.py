"""Writes of the single entry point: saisines, their states, orientations, notifications.

Contract (keyword-only arguments; other modules call these, keep them stable). Every
service raises ``ValidationError`` with a French message for bad input, and
``TransitionRefused`` (a ``ValidationError``) when the saisine's state does not allow the
action, or when another user changed it first. ``request`` (optional everywhere) only
gives the audit trail its IP address and actor.

Creation
    ``saisine_create(*, organisation, data, by=None, submission_key="", request=None)``
    ``data`` holds Saisine field names (see ``CREATABLE_FIELDS``, "person" included). Sets
    the reference ("S-2026-000123": per organisation, sequential per year), received_at,
    status "received"; writes a "created" event and an audit CREATE. The same non-empty
    ``submission_key`` returns the saisine already created (double submit, even racing).

States: received → triaged → in_progress → closed; received|triaged|in_progress →
declined; closed and declined are final. Each transition is a conditional UPDATE on the
status and the version the caller read (``saisine.version``), so two coordinators cannot
both apply conflicting transitions; the instance passed is refreshed on success.
    ``saisine_triage(*, saisine, by, complexity: dict, level: int)``  received|triaged →
        triaged (complexity screening and level 0–10)
    ``saisine_decide(*, saisine, by, decision, note="")``  triaged|in_progress → in_progress;
        decision in information, orientation, mt_search, open_case (to decline, use
        ``saisine_decline``); sets decision, decision_note, decided_at (first decision) and
        first_response_at if unset. After "information", ``saisine_close`` may follow at once.
    ``saisine_start(*, saisine, by)``  triaged → in_progress without a decision
    ``saisine_close(*, saisine, by, outcome)``  in_progress → closed (outcome required)
    ``saisine_decline(*, saisine, by, reason)``  received|triaged|in_progress → declined
        (reason required; decision "decline"; decided_at, first_response_at if unset,
        closed_at = the end of the saisine)
    ``saisine_note(*, saisine, by, text) -> SaisineEvent``  any state, no version change
    ``saisine_first_response(*, saisine, by) -> bool``  set once (True if set now); the
        first decision, closure, decline or message to the requester sets it too.
So timestamps stay ordered: received ≤ first response ≤ decision ≤ closure.

Médecin traitant
    ``saisine_inform_mt(*, saisine, by) -> bool``  e-mails the person's médecin traitant
        (directory Professional, e-mail of an active practice situation) that a saisine
        concerns his patient: reference and team contact only, no clinical detail; records
        mt_informed_at and an event. False (nothing recorded) when there is no such e-mail
        or he was already informed.

    ``saisine_mt_found(*, saisine, by, request=None) -> bool``  the médecin traitant search
        (parcours/matching) found a GP the person chose: sets mt_found_at once, records an
        event and tells the requester (no doctor's name); False if already recorded.

Requester
    ``saisine_notify_requester(*, saisine, subject, template_base, context=None, by=None)
        -> str``  e-mail, else SMS (``parcours.messaging.notify_requester``); records a
        "message" event and the first response; "" when not sent (failures are logged
        by id and swallowed: a notification never undoes the change that caused it).
    ``saisine_status_token``, ``saisine_from_status_token``, ``saisine_public_status``:
        see ``selectors.py`` (re-exported here).

Orientation (closed loop): sent → accepted / declined (reason) / done, or no_answer
    ``orientation_send(*, saisine, by, resource, message="", by_phone=False) -> Orientation``
        resource: a directory Service (of the saisine's organisation), Structure or
        Professional. E-mails the recipient signed links (see tokens.py); without an
        e-mail, refused unless ``by_phone=True`` (only records that it was phoned).
    ``orientation_link_open(*, token, request=None, audit=True) -> OrientationLink``
        the orientation and action a link carries; audited as LINK_OPENED; raises
        ``LinkInvalid`` (tampered, expired, unknown).
    ``orientation_answer(*, orientation, answer, reason="", by=None) -> Orientation``
        accepted / declined (reason required) / done; the same answer again changes
        nothing; declined and done are final; tells the requester the outcome.
    ``orientations_remind_due(now=None) -> dict``  the periodic job: one reminder after
        ORIENTATION_REMINDER_DAYS, then "no_answer" and flagged_at after
        ORIENTATION_NO_ANSWER_DAYS more.

Reads (selectors.py, re-exported): ``delay_targets()``, ``saisine_delays(saisine)``,
``saisine_timeline(saisine)``.

No personal data in logs, URLs, subjects or audit details (ids and codes only).
"""

import datetime
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scope, scopes_disabled

from parcours import messaging
from parcours.accounts.models import Organisation
from parcours.audit.models import Action
from parcours.audit.services import audit_log
from parcours.directory.models import PracticeSituation, Professional, Service, Structure

from .models import Decision, Orientation, Saisine, SaisineEvent, Status
from .selectors import (
    delay_targets,
    saisine_delays,
    saisine_from_status_token,
    saisine_public_status,
    saisine_status_token,
    saisine_timeline,
)
from .tokens import ORIENTATION_ACTIONS, LinkInvalid, orientation_token, orientation_token_read

__all__ = [
    "CREATABLE_FIELDS",
    "LinkInvalid",
    "OrientationLink",
    "TransitionRefused",
    "delay_targets",
    "orientation_answer",
    "orientation_link_open",
    "orientation_send",
    "orientation_url",
    "orientations_remind_due",
    "saisine_close",
    "saisine_create",
    "saisine_decide",
    "saisine_decline",
    "saisine_delays",
    "saisine_first_response",
    "saisine_from_status_token",
    "saisine_inform_mt",
    "saisine_note",
    "saisine_notify_requester",
    "saisine_public_status",
    "saisine_start",
    "saisine_status_token",
    "saisine_timeline",
    "saisine_triage",
]

logger = logging.getLogger(__name__)

FINAL = frozenset({Status.CLOSED, Status.DECLINED})
DECISIONS = (Decision.INFORMATION, Decision.ORIENTATION, Decision.MT_SEARCH, Decision.OPEN_CASE)
MAX_LEVEL = 10
MAX_TEXT = 10_000

# What a caller may set when creating a saisine; the rest is the workflow's.
CREATABLE_FIELDS = frozenset(
    {
        "origin",
        "channel",
        "language",
        "requester_professional",
        "requester_structure",
        "requester_service",
        "requester_user",
        "requester_name",
        "requester_role",
        "requester_phone",
        "requester_email",
        "requester_email_verified_at",
        "person",
        "anonymous_description",
        "bulletin",
        "difficulty",
        "requests",
        "motives",
        "urgency",
        "free_text",
        "consent_given",
        "assigned_to",
    }
)


class TransitionRefused(ValidationError):
    """The saisine's (or orientation's) state does not allow this action (French message)."""


# --- Shared bits ---------------------------------------------------------------------------


def _set_once(column: str, value: datetime.datetime) -> Coalesce:
    """``COALESCE(column, value)`` for a conditional UPDATE: set once, never moved."""
    return Coalesce(F(column), Value(value, output_field=DateTimeField()))


def _event(
    saisine: Saisine,
    kind: str,
    *,
    by=None,
    at: datetime.datetime | None = None,
    text: str = "",
    from_status: str = "",
    to_status: str = "",
) -> SaisineEvent:
    return SaisineEvent.objects.create(
        organisation_id=saisine.organisation_id,
        saisine=saisine,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        at=at or timezone.now(),
        by=by,
        text=text,
    )


def _audit(action, obj, *, saisine: Saisine, by=None, request=None, details=None) -> None:
    audit_log(
        action=action,
        request=request,
        actor=by,
        organisation=saisine.organisation,
        obj=obj,
        person_id=saisine.person_id,
        details=details or {},
    )


def _text(value, *, max_length: int = MAX_TEXT) -> str:
    """A text typed by someone: stripped, without NUL characters, not too long."""
    value = str(value or "").strip()
    if "\x00" in value:
        raise ValidationError(_("Ce texte contient un caractère non autorisé."), code="null")
    if len(value) > max_length:
        raise ValidationError(
            _("Ce texte est trop long (%(max)s caractères au plus).") % {"max": max_length},
            code="max_length",
        )
    return value


def _required_text(value, message) -> str:
    value = _text(value)
    if not value:
        raise ValidationError(message, code="required")
    return value


def _french(value) -> str:
    with translation.override("fr"):
        return str(value)


# --- Creation ------------------------------------------------------------------------------

REFERENCE_PATTERN = "S-{year}-{number:06d}"
REFERENCE_ATTEMPTS = 5


def _next_reference(organisation: Organisation, year: int) -> str:
    prefix = f"S-{year}-"
    last = (
        Saisine.objects.filter(organisation=organisation, reference__startswith=prefix)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = 1
    if last and re.fullmatch(r"\d{6,}", last[len(prefix) :]):
        number = int(last[len(prefix) :]) + 1
    return REFERENCE_PATTERN.format(year=year, number=number)


def _existing_submission(organisation: Organisation, submission_key: str) -> Saisine | None:
    if not submission_key:
        return None
    return Saisine.objects.filter(organisation=organisation, submission_key=submission_key).first()


def _new_saisine(*, organisation, data: dict, by, submission_key: str) -> Saisine:
    unknown = set(data) - CREATABLE_FIELDS
    if unknown:
        raise ValueError(f"saisine_create: fields not accepted: {sorted(unknown)}")
    for name, value in data.items():
        if isinstance(value, str) and "\x00" in value:
            raise ValidationError({name: _("Ce texte contient un caractère non autorisé.")})
    person = data.get("person")
    if person is not None and person.organisation_id != organisation.pk:
        raise ValidationError(_("Cette personne n'appartient pas à votre organisation."))
    service = data.get("requester_service")
    if service is not None and service.organisation_id != organisation.pk:
        raise ValidationError(_("Ce service n'appartient pas à votre organisation."))
    saisine = Saisine(
        organisation=organisation,
        **data,
        status=Status.RECEIVED,
        received_at=timezone.now(),
        submission_key=submission_key,
        created_by=by,
    )
    # The workflow's fields are set by the transitions, not validated here (complexity_level
    # is null until triage but has no blank=True).
    workflow = [f.name for f in Saisine._meta.fields if f.name not in CREATABLE_FIELDS]
    saisine.full_clean(exclude=workflow, validate_unique=False, validate_constraints=False)
    return saisine


def saisine_create(
    *,
    organisation: Organisation,
    data: dict,
    by=None,
    submission_key: str = "",
    request=None,
) -> Saisine:
    """Record a new saisine (see the module docstring). Idempotent on ``submission_key``."""
    submission_key = (submission_key or "").strip()[:64]
    with scope(organisation=organisation):
        existing = _existing_submission(organisation, submission_key)
        if existing is not None:
            return existing
        saisine = _new_saisine(
            organisation=organisation, data=dict(data), by=by, submission_key=submission_key
        )
        year = timezone.localtime(saisine.received_at).year
        for _attempt in range(REFERENCE_ATTEMPTS):
            try:
                with transaction.atomic():
                    # One creation at a time per organisation: references follow each other.
                    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
                    existing = _existing_submission(organisation, submission_key)
                    if existing is not None:
                        return existing
                    saisine.pk = None
                    saisine.reference = _next_reference(organisation, year)
                    saisine.save(force_insert=True)
                    _event(
                        saisine,
                        SaisineEvent.Kind.CREATED,
                        by=by,
                        at=saisine.received_at,
                        to_status=Status.RECEIVED,
                    )
                    _audit(
                        Action.CREATE,
                        saisine,
                        saisine=saisine,
                        by=by,
                        request=request,
                        details={
                            "reference": saisine.reference,
                            "origin": saisine.origin,
                            "channel": saisine.channel,
                            "bulletin": saisine.bulletin,
                        },
                    )
                    return saisine
            except IntegrityError:
                # A racing request took the reference or the submission key: look again.
                existing = _existing_submission(organisation, submission_key)
                if existing is not None:
                    return existing
        raise ValidationError(
            _("La demande n'a pas pu être enregistrée (trop de demandes simultanées) : réessayez.")
        )


# --- Transitions ---------------------------------------------------------------------------


def _refusal(saisine: Saisine, allowed_from) -> TransitionRefused:
    current = Saisine._base_manager.filter(pk=saisine.pk).values_list("status", "version").first()
    if current is None:
        return TransitionRefused(_("Cette saisine n'existe plus."), code="gone")
    status, version = current
    label = _french(Status(status).label).lower()
    if status in FINAL:
        return TransitionRefused(
            _("Cette saisine est %(status)s : son état ne peut plus changer.") % {"status": label},
            code="final",
        )
    if status not in allowed_from:
        return TransitionRefused(
            _("Action impossible : la saisine est « %(status)s ».") % {"status": label},
            code="status",
        )
    return TransitionRefused(
        _(
            "La saisine vient d'être modifiée par quelqu'un d'autre : rechargez la page pour "
            "voir son état actuel, puis recommencez."
        ),
        code="version",
    )


def _transition(
    *,
    saisine: Saisine,
    by,
    allowed_from,
    to_status: str,
    changes: dict,
    kind: str = SaisineEvent.Kind.TRANSITION,
    text: str = "",
    details: dict | None = None,
    request=None,
) -> Saisine:
    """Apply one transition if the saisine is still in ``allowed_from`` at the version read."""
    now = timezone.now()
    changes = {name: value(now) if callable(value) else value for name, value in changes.items()}
    from_status = saisine.status
    with scope(organisation=saisine.organisation), transaction.atomic():
        updated = Saisine.objects.filter(
            pk=saisine.pk,
            organisation_id=saisine.organisation_id,
            status__in=list(allowed_from),
            version=saisine.version,
        ).update(status=to_status, version=F("version") + 1, **changes)
        if not updated:
            raise _refusal(saisine, allowed_from)
        saisine.refresh_from_db()
        _event(
            saisine, kind, by=by, at=now, text=text, from_status=from_status, to_status=to_status
        )
        _audit(
            Action.UPDATE,
            saisine,
            saisine=saisine,
            by=by,
            request=request,
            details={"from": from_status, "status": to_status, **(details or {})},
        )
    return saisine


def saisine_triage(*, saisine: Saisine, by, complexity: dict, level: int, request=None) -> Saisine:
    """Record the complexity screening and its level: received|triaged → triaged."""
    if not isinstance(complexity, dict) or not all(isinstance(key, str) for key in complexity):
        raise ValidationError(_("Le repérage de la complexité est mal formé."))
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= MAX_LEVEL:
        raise ValidationError(
            _("Le niveau de complexité va de 0 à %(max)s.") % {"max": MAX_LEVEL}, code="level"
        )
    return _transition(
        saisine=saisine,
        by=by,
        allowed_from=(Status.RECEIVED, Status.TRIAGED),
        to_status=Status.TRIAGED,
        changes={"complexity": complexity, "complexity_level": level},
        details={"complexity_level": level},
        request=request,
    )


def saisine_decide(*, saisine: Saisine, by, decision: str, note: str = "", request=None) -> Saisine:
    """Record the decision: triaged|in_progress → in_progress (the first one dates it)."""
    if decision not in DECISIONS:
        raise ValidationError(_("Choisissez une décision."), code="decision")
    note = _text(note)
    label = _french(Decision(decision).label)
    return _transition(
        saisine=saisine,
        by=by,
        allowed_from=(Status.TRIAGED, Status.IN_PROGRESS),
        to_status=Status.IN_PROGRESS,
        changes={
            "decision": decision,
            "decision_note": note,
            "decided_at": lambda now: _set_once("decided_at", now),
            "first_response_at": lambda now: _set_once("first_response_at", now),
        },
        kind=SaisineEvent.Kind.DECISION,
        text=f"{label}\n{note}".strip(),
        details={"decision": decision},
        request=request,
    )


def saisine_start(*, saisine: Saisine, by, request=None) -> Saisine:
    """Start working on a triaged saisine without a recorded decision: → in_progress."""
    return _transition(
        saisine=saisine,
        by=by,
        allowed_from=(Status.TRIAGED,),
        to_status=Status.IN_PROGRESS,
        changes={},
        request=request,
    )


def saisine_close(*, saisine: Saisine, by, outcome: str, request=None) -> Saisine:
    """Close a saisine in progress with its outcome (required)."""
    outcome = _required_text(outcome, _("Indiquez l'issue de la saisine pour la clôturer."))
    return _transition(
        saisine=saisine,
        by=by,
        allowed_from=(Status.IN_PROGRESS,),
        to_status=Status.CLOSED,
        changes={
            "outcome": outcome,
            "closed_at": lambda now: now,
            "first_response_at": lambda now: _set_once("first_response_at", now),
        },
        text=outcome,
        request=request,
    )


def saisine_decline(*, saisine: Saisine, by, reason: str, request=None) -> Saisine:
    """Decline a saisine not yet closed, with a reason (required); final."""
    reason = _required_text(
        reason, _("Indiquez le motif pour lequel la saisine n'est pas retenue.")
    )
    return _transition(
        saisine=saisine,
        by=by,
        allowed_from=(Status.RECEIVED, Status.TRIAGED, Status.IN_PROGRESS),
        to_status=Status.DECLINED,
        changes={
            "decline_reason": reason,
            "decision": Decision.DECLINE,
            "decided_at": lambda now: _set_once("decided_at", now),
            "first_response_at": lambda now: _set_once("first_response_at", now),
            "closed_at": lambda now: now,
        },
        text=reason,
        details={"decision": Decision.DECLINE},
        request=request,
    )


def saisine_note(*, saisine: Saisine, by, text: str, request=None) -> SaisineEvent:
    """Add a dated note to the timeline (any state; the saisine itself is unchanged)."""
    text = _required_text(text, _("La note est vide."))
    with scope(organisation=saisine.organisation), transaction.atomic():
        event = _event(saisine, SaisineEvent.Kind.NOTE, by=by, text=text)
        _audit(
            Action.CREATE,
            event,
            saisine=saisine,
            by=by,
            request=request,
            details={"saisine": saisine.pk, "kind": SaisineEvent.Kind.NOTE},
        )
    return event


def _mark_first_response(saisine: Saisine, *, by, text: str, request=None) -> bool:
    now = timezone.now()
    with scope(organisation=saisine.organisation), transaction.atomic():
        updated = Saisine.objects.filter(pk=saisine.pk, first_response_at__isnull=True).update(
            first_response_at=now
        )
        if updated:
            saisine.first_response_at = now
            _event(saisine, SaisineEvent.Kind.MESSAGE, by=by, at=now, text=text)
            _audit(
                Action.UPDATE,
                saisine,
                saisine=saisine,
                by=by,
                request=request,
                details={"first_response": True},
            )
    return bool(updated)


def saisine_first_response(*, saisine: Saisine, by, request=None) -> bool:
    """Record the first response to the requester (a call, a message): set once."""
    return _mark_first_response(
        saisine, by=by, text=_("Première réponse apportée au demandeur."), request=request
    )


# --- Messages ------------------------------------------------------------------------------


def _user_name(user) -> str:
    if user is None:
        return ""
    return (user.get_full_name() if hasattr(user, "get_full_name") else "") or ""


def saisine_notify_requester(
    *,
    saisine: Saisine,
    subject,
    template_base: str,
    context: dict | None = None,
    by=None,
    request=None,
) -> str:
    """Send the requester a message (e-mail, else SMS) and record it; see the docstring."""
    try:
        channel = messaging.notify_requester(saisine, subject, template_base, context or {})
    except Exception as error:  # a failed notification must not undo what caused it
        logger.warning("saisine %s: requester not notified (%s)", saisine.pk, type(error).__name__)
        return ""
    if not channel:
        return ""
    text = _("Message envoyé au demandeur (%(channel)s) : %(subject)s") % {
        "channel": "e-mail" if channel == "email" else "SMS",
        "subject": _french(subject),
    }
    with scope(organisation=saisine.organisation), transaction.atomic():
        now = timezone.now()
        Saisine.objects.filter(pk=saisine.pk, first_response_at__isnull=True).update(
            first_response_at=now
        )
        saisine.first_response_at = saisine.first_response_at or now
        _event(saisine, SaisineEvent.Kind.MESSAGE, by=by, at=now, text=text)
    return channel


def _mt_email(professional: Professional) -> str:
    situation = (
        PracticeSituation.objects.filter(professional=professional, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .first()
    )
    return situation.email if situation else ""


def saisine_inform_mt(*, saisine: Saisine, by, request=None) -> bool:
    """Tell the person's médecin traitant that a saisine concerns his patient (no clinical
    detail: the reference and the team's contact). True when informed now."""
    person = saisine.person
    doctor = person.medecin_traitant if person is not None else None
    if doctor is None or saisine.mt_informed_at is not None:
        return False
    email = _mt_email(doctor)
    if not email:
        return False
    now = timezone.now()
    context = {
        "organisation": saisine.organisation,
        "reference": saisine.reference,
        "greeting": " ".join(filter(None, [doctor.civility, doctor.last_name])),
        "sender_name": _user_name(by),
        "sender_email": getattr(by, "email", ""),
    }
    with scope(organisation=saisine.organisation), transaction.atomic():
        updated = Saisine.objects.filter(pk=saisine.pk, mt_informed_at__isnull=True).update(
            mt_informed_at=now
        )
        if not updated:
            return False
        _event(
            saisine,
            SaisineEvent.Kind.MT_INFORMED,
            by=by,
            at=now,
            text=_("Message envoyé à %(doctor)s, sans détail clinique.") % {"doctor": doctor},
        )
        try:
            messaging.send_email(
                to=email,
                subject=gettext_lazy("Une demande de coordination concerne l'un de vos patients"),
                template_base="saisines/email/mt_informed",
                context=context,
                language="fr",
                reply_to=[context["sender_email"]],
            )
        except Exception as error:  # nothing recorded if the message did not leave
            logger.warning("saisine %s: MT not informed (%s)", saisine.pk, type(error).__name__)
            raise ValidationError(
                _("Le message au médecin traitant n'a pas pu être envoyé : réessayez plus tard.")
            ) from None
        # Audited last: the audit chain's lock is then held only until COMMIT.
        _audit(
            Action.UPDATE,
            saisine,
            saisine=saisine,
            by=by,
            request=request,
            details={"mt_informed": True, "professional": doctor.pk},
        )
        saisine.mt_informed_at = now
    return True


# --- Orientation: sending ------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    fields: dict  # service / structure / professional
    name: str
    email: str


def _recipient(resource, saisine: Saisine) -> Recipient:
    if isinstance(resource, Service):
        if resource.organisation_id != saisine.organisation_id:
            raise ValidationError(_("Ce service n'appartient pas à votre organisation."))
        return Recipient({"service": resource}, resource.name, resource.email)
    if isinstance(resource, Structure):
        return Recipient({"structure": resource}, resource.name, resource.email)
    if isinstance(resource, Professional):
        name = " ".join(filter(None, [resource.civility, resource.first_name, resource.last_name]))
        return Recipient({"professional": resource}, name, _mt_email(resource))
    raise TypeError("orientation_send: resource must be a Service, Structure or Professional")


def orientation_url(orientation: Orientation, action: str) -> str:
    token = orientation_token(orientation, action)
    return settings.SITE_URL + reverse("saisines:orientation-answer", args=[token])


ACTION_LABELS = {
    "accepted": gettext_lazy("J'accepte cette orientation"),
    "declined": gettext_lazy("Je ne peux pas y donner suite"),
    "done": gettext_lazy("La personne a été reçue / l'action est faite"),
}


def person_summary(saisine: Saisine) -> dict:
    """What an orientation's recipient may see of the person: first name and commune."""
    person = saisine.person
    if person is None:
        return {"first_name": "", "commune": ""}
    first_name = person.used_first_name or (person.first_names.split() or [""])[0]
    return {"first_name": first_name, "commune": person.commune.name if person.commune else ""}


def _orientation_email(orientation: Orientation, *, reminder: bool) -> None:
    saisine = orientation.saisine
    sender = orientation.sent_by
    context = {
        "organisation": saisine.organisation,
        "reference": saisine.reference,
        "recipient_name": orientation.recipient_name,
        "message": orientation.message,
        "person": person_summary(saisine),
        "sent_at": orientation.sent_at,
        "sender_name": _user_name(sender),
        "sender_email": getattr(sender, "email", ""),
        "reminder": reminder,
        "link_days": settings.ORIENTATION_LINK_DAYS,
        "links": [
            (ACTION_LABELS[action], orientation_url(orientation, action))
            for action in ORIENTATION_ACTIONS
        ],
    }
    if reminder:
        subject = gettext_lazy("Rappel : orientation %(reference)s en attente de réponse")
    else:
        subject = gettext_lazy("Orientation %(reference)s : merci de nous répondre")
    with translation.override("fr"):
        subject = str(subject) % {"reference": saisine.reference}
    messaging.send_email(
        to=orientation.recipient_email,
        subject=subject,
        template_base="saisines/email/orientation",
        context=context,
        language="fr",
        reply_to=[context["sender_email"]],
    )


def orientation_send(
    *,
    saisine: Saisine,
    by,
    resource,
    message: str = "",
    by_phone: bool = False,
    request=None,
) -> Orientation:
    """Orient the saisine to a directory resource: e-mail with signed links, or record a
    phone orientation (``by_phone=True``, nothing sent)."""
    recipient = _recipient(resource, saisine)
    message = _text(message)
    if not recipient.email and not by_phone:
        raise ValidationError(
            _(
                "%(name)s n'a pas d'adresse e-mail dans l'annuaire : appelez-la, puis "
                "enregistrez l'orientation comme faite par téléphone."
            )
            % {"name": recipient.name},
            code="no_email",
        )
    with scope(organisation=saisine.organisation), transaction.atomic():
        locked = Saisine.objects.select_for_update().get(pk=saisine.pk)
        if locked.status in FINAL:
            raise TransitionRefused(
                _("Cette saisine est %(status)s : elle ne peut plus être orientée.")
                % {"status": _french(Status(locked.status).label).lower()},
                code="final",
            )
        pending = Orientation.objects.filter(
            saisine=locked,
            status__in=[Orientation.Status.SENT, Orientation.Status.ACCEPTED],
            **recipient.fields,
        )
        if pending.exists():
            raise ValidationError(
                _("Une orientation vers %(name)s est déjà en cours pour cette saisine.")
                % {"name": recipient.name},
                code="duplicate",
            )
        orientation = Orientation.objects.create(
            organisation_id=saisine.organisation_id,
            saisine=locked,
            **recipient.fields,
            recipient_name=recipient.name[:300],
            recipient_email=recipient.email,
            message=message,
            status=Orientation.Status.SENT,
            sent_at=timezone.now(),
            sent_by=by,
        )
        how = _("par téléphone") if by_phone else _("par e-mail")
        _event(
            locked,
            SaisineEvent.Kind.ORIENTATION,
            by=by,
            at=orientation.sent_at,
            text=_("Orientation vers %(name)s (%(how)s).") % {"name": recipient.name, "how": how},
        )
        if not by_phone:
            try:
                _orientation_email(orientation, reminder=False)
            except Exception as error:  # rolled back: the coordinator retries
                logger.warning(
                    "orientation of saisine %s: not sent (%s)", saisine.pk, type(error).__name__
                )
                raise ValidationError(
                    _("L'e-mail d'orientation n'a pas pu être envoyé : réessayez plus tard.")
                ) from None
        # Audited last: the audit chain's lock is then held only until COMMIT.
        _audit(
            Action.CREATE,
            orientation,
            saisine=locked,
            by=by,
            request=request,
            details={
                "saisine": saisine.pk,
                "by_phone": bool(by_phone),
                **{name: value.pk for name, value in recipient.fields.items()},
            },
        )
    return orientation


def saisine_mt_found(*, saisine: Saisine, by, request=None) -> bool:
    """Record that a médecin traitant was found and chosen (see the module docstring)."""
    now = timezone.now()
    with scope(organisation=saisine.organisation), transaction.atomic():
        if not Saisine.objects.filter(pk=saisine.pk, mt_found_at__isnull=True).update(
            mt_found_at=now
        ):
            return False
        saisine.mt_found_at = now
        _event(
            saisine,
            SaisineEvent.Kind.MT_FOUND,
            by=by,
            at=now,
            text=_("Un médecin traitant a accepté la personne, qui l'a choisi."),
        )
        _audit(
            Action.UPDATE,
            saisine,
            saisine=saisine,
            by=by,
            request=request,
            details={"mt_found": True},
        )
    saisine_notify_requester(
        saisine=saisine,
        subject=gettext_lazy("Votre demande : un médecin traitant a été trouvé"),
        template_base="saisines/email/mt_found",
        context={"status_url": _status_url(saisine)},
        by=by,
    )
    return True


# --- Orientation: the recipient's answer ---------------------------------------------------


@dataclass(frozen=True)
class OrientationLink:
    orientation: Orientation
    action: str  # the answer the link carries

    @property
    def saisine(self) -> Saisine:
        return self.orientation.saisine


def _orientation_for_link(orientation_id) -> Orientation | None:
    with scopes_disabled():
        return (
            Orientation.objects.select_related(
                "organisation", "saisine__organisation", "saisine__person__commune", "sent_by"
            )
            .filter(pk=orientation_id)
            .first()
        )


def orientation_link_open(*, token: str, request=None, audit: bool = True) -> OrientationLink:
    """The orientation and the answer a link carries (``LinkInvalid`` if unusable)."""
    try:
        orientation_id, action = orientation_token_read(token)
    except LinkInvalid as error:
        if error.expired:
            expired = _orientation_for_link(error.payload.get("o"))
            if expired is not None:
                error.message = " ".join(
                    [
                        error.message,
                        _("Pour répondre, contactez directement %(organisation)s.")
                        % {"organisation": expired.organisation.name},
                    ]
                )
        raise
    orientation = _orientation_for_link(orientation_id)
    if orientation is None:
        raise LinkInvalid(_("Cette orientation n'existe plus."))
    if audit:
        audit_log(
            action=Action.LINK_OPENED,
            request=request,
            organisation=orientation.organisation,
            obj=orientation,
            person_id=orientation.saisine.person_id,
            details={"action": action},
        )
    return OrientationLink(orientation=orientation, action=action)


ORIENTATION_FINAL = frozenset({Orientation.Status.DECLINED, Orientation.Status.DONE})
ANSWERS_FROM = {
    Orientation.Status.ACCEPTED: (Orientation.Status.SENT, Orientation.Status.NO_ANSWER),
    Orientation.Status.DECLINED: (
        Orientation.Status.SENT,
        Orientation.Status.NO_ANSWER,
        Orientation.Status.ACCEPTED,
    ),
    Orientation.Status.DONE: (
        Orientation.Status.SENT,
        Orientation.Status.NO_ANSWER,
        Orientation.Status.ACCEPTED,
    ),
}

OUTCOME_SUBJECTS = {
    Orientation.Status.ACCEPTED: gettext_lazy("Votre demande : une structure l'a acceptée"),
    Orientation.Status.DECLINED: gettext_lazy("Votre demande : une structure ne peut y répondre"),
    Orientation.Status.DONE: gettext_lazy("Votre demande : la structure l'a prise en charge"),
}


def _answer_refused(orientation: Orientation) -> TransitionRefused:
    label = _french(Orientation.Status(orientation.status).label).lower()
    when = orientation.done_at or orientation.answered_at
    if orientation.status in ORIENTATION_FINAL:
        message = _(
            "Cette orientation a déjà reçu une réponse définitive (« %(status)s », le %(date)s) : "
            "elle ne peut plus changer. Pour toute question, contactez %(organisation)s."
        ) % {
            "status": label,
            "date": date_format(timezone.localtime(when), "SHORT_DATE_FORMAT") if when else "",
            "organisation": orientation.organisation.name,
        }
        return TransitionRefused(message, code="final")
    return TransitionRefused(
        _("Cette réponse n'est pas possible : l'orientation est « %(status)s ».")
        % {"status": label},
        code="status",
    )


def orientation_answer(
    *,
    orientation: Orientation,
    answer: str,
    reason: str = "",
    by=None,
    request=None,
) -> Orientation:
    """Record the recipient's answer (from the signed link, or entered by the team)."""
    if answer not in ANSWERS_FROM:
        raise ValidationError(_("Choisissez une réponse."), code="answer")
    if answer == Orientation.Status.DECLINED:
        reason = _required_text(reason, _("Indiquez pourquoi vous ne pouvez pas y donner suite."))
    else:
        reason = ""
    saisine = orientation.saisine
    with scope(organisation=saisine.organisation), transaction.atomic():
        locked = Orientation.objects.select_for_update().get(pk=orientation.pk)
        if locked.status == answer:  # the same answer again: nothing changes
            orientation.refresh_from_db()
            return orientation
        if locked.status not in ANSWERS_FROM[answer]:
            raise _answer_refused(locked)
        now = timezone.now()
        changes = {"status": answer, "answered_at": _set_once("answered_at", now)}
        if answer == Orientation.Status.DECLINED:
            changes["decline_reason"] = reason
        if answer == Orientation.Status.DONE:
            changes["done_at"] = now
        Orientation.objects.filter(pk=locked.pk, status=locked.status).update(**changes)
        orientation.refresh_from_db()
        label = _french(Orientation.Status(answer).label)
        _event(
            saisine,
            SaisineEvent.Kind.ORIENTATION,
            by=by,
            at=now,
            text=" ".join(filter(None, [f"{orientation.recipient_name} : {label}.", reason])),
        )
        saisine_notify_requester(
            saisine=saisine,
            subject=OUTCOME_SUBJECTS[answer],
            template_base="saisines/email/orientation_outcome",
            context={"answer": answer, "status_url": _status_url(saisine)},
            by=by,
        )
        # Audited last: the audit chain's lock is then held only until COMMIT.
        _audit(
            Action.UPDATE,
            orientation,
            saisine=saisine,
            by=by,
            request=request,
            details={"from": locked.status, "status": answer, "saisine": saisine.pk},
        )
    return orientation


def _status_url(saisine: Saisine) -> str:
    """The requester's status page, once the public pages define "saisines:status"."""
    from django.urls import NoReverseMatch

    try:
        path = reverse("saisines:status", args=[saisine_status_token(saisine)])
    except NoReverseMatch:
        return ""
    return settings.SITE_URL + path


# --- Orientation: reminders and no answer --------------------------------------------------


def _remind(orientation: Orientation, now: datetime.datetime) -> bool:
    """Send the one reminder, claimed by a conditional update (given back on failure)."""
    claim = Orientation.objects.filter(
        pk=orientation.pk, status=Orientation.Status.SENT, reminders_sent=0
    )
    if not claim.update(reminders_sent=1, last_reminded_at=now):
        return False
    try:
        _orientation_email(orientation, reminder=True)
    except Exception as error:  # retried at the next run
        logger.warning(
            "orientation %s: reminder not sent (%s)", orientation.pk, type(error).__name__
        )
        Orientation.objects.filter(pk=orientation.pk).update(
            reminders_sent=0, last_reminded_at=None
        )
        return False
    _event(
        orientation.saisine,
        SaisineEvent.Kind.ORIENTATION,
        at=now,
        text=_("Relance envoyée à %(name)s.") % {"name": orientation.recipient_name},
    )
    return True


def _flag(orientation: Orientation, now: datetime.datetime) -> bool:
    with transaction.atomic():
        flagged = Orientation.objects.filter(
            pk=orientation.pk, status=Orientation.Status.SENT
        ).update(status=Orientation.Status.NO_ANSWER, flagged_at=now)
        if not flagged:
            return False
        _event(
            orientation.saisine,
            SaisineEvent.Kind.ORIENTATION,
            at=now,
            text=_("Sans réponse de %(name)s : à relancer par téléphone.")
            % {"name": orientation.recipient_name},
        )
        _audit(
            Action.UPDATE,
            orientation,
            saisine=orientation.saisine,
            details={"from": Orientation.Status.SENT, "status": Orientation.Status.NO_ANSWER},
        )
    return True


def orientations_remind_due(now: datetime.datetime | None = None) -> dict:
    """The periodic job: remind once, then mark "no answer" and flag (see the docstring)."""
    now = now or timezone.now()
    remind_after = datetime.timedelta(days=settings.ORIENTATION_REMINDER_DAYS)
    flag_after = datetime.timedelta(days=settings.ORIENTATION_NO_ANSWER_DAYS)
    with scopes_disabled():
        waiting = Orientation.objects.filter(status=Orientation.Status.SENT).select_related(
            "organisation", "saisine__organisation", "saisine__person__commune", "sent_by"
        )
        to_flag = list(
            waiting.filter(
                Q(reminders_sent__gte=1, last_reminded_at__lte=now - flag_after)
                | Q(recipient_email="", sent_at__lte=now - remind_after - flag_after)
            )
        )
        to_remind = list(
            waiting.filter(reminders_sent=0, sent_at__lte=now - remind_after).exclude(
                recipient_email=""
            )
        )
    counts = {"reminded": 0, "flagged": 0}
    for orientation in to_flag:
        with scope(organisation=orientation.organisation):
            counts["flagged"] += _flag(orientation, now)
    for orientation in to_remind:
        with scope(organisation=orientation.organisation):
            counts["reminded"] += _remind(orientation, now)
    return counts
