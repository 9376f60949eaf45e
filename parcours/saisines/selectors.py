"""Reads of the single entry point: delays, timeline, orientations, the public status.

- ``delay_targets() -> dict``: the targets from settings, as timedeltas, keyed
  "first_response", "decision", "closure".
- ``saisine_delays(saisine, now=None) -> dict``: received → first response, → decision,
  → closure (timedeltas or None), "elapsed" since reception, the "targets" and "overdue"
  flags (a measured delay beyond its target, or a milestone still missing past it while
  the saisine is open).
- ``saisine_timeline(saisine) -> list[SaisineEvent]``: events in order.
- ``saisine_orientations(saisine)`` and ``orientations_flagged(*, organisation)`` (the
  coordinator's queue: orientations marked "no answer").
- ``saisine_get(*, organisation, saisine_id, user=None, request=None)``: one saisine of the
  organisation (404 otherwise), the read audited.
- The requester's status link: ``saisine_status_token(saisine)``,
  ``saisine_from_status_token(token)`` (raises ``LinkInvalid``, ``.expired`` set for an
  expired link) and ``saisine_public_status(saisine)``: a dict WITHOUT personal data.
"""

import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from parcours.audit.models import Action
from parcours.audit.services import audit_log

from .models import Decision, Orientation, Saisine, SaisineEvent, Status
from .tokens import LinkInvalid, status_token, status_token_read

MILESTONES = (
    ("first_response", "first_response_at"),
    ("decision", "decided_at"),
    ("closure", "closed_at"),
)
FINAL = (Status.CLOSED, Status.DECLINED)


# --- Delays --------------------------------------------------------------------------------


def delay_targets() -> dict[str, datetime.timedelta]:
    return {
        "first_response": datetime.timedelta(hours=settings.SAISINE_TARGET_FIRST_RESPONSE_HOURS),
        "decision": datetime.timedelta(days=settings.SAISINE_TARGET_DECISION_DAYS),
        "closure": datetime.timedelta(days=settings.SAISINE_TARGET_CLOSURE_DAYS),
    }


def saisine_delays(saisine: Saisine, now: datetime.datetime | None = None) -> dict:
    """The saisine's delays against the targets (see the module docstring)."""
    now = now or timezone.now()
    targets = delay_targets()
    received = saisine.received_at
    delays, overdue = {}, {}
    for name, field in MILESTONES:
        reached = getattr(saisine, field)
        delay = reached - received if reached else None
        delays[name] = delay
        if delay is not None:
            overdue[name] = delay > targets[name]
        else:
            overdue[name] = saisine.status not in FINAL and now - received > targets[name]
    return {
        **delays,
        "elapsed": (saisine.closed_at or now) - received,
        "targets": targets,
        "overdue": overdue,
        "any_overdue": any(overdue.values()),
    }


# --- Staff reads ---------------------------------------------------------------------------


def saisine_get(*, organisation, saisine_id: int, user=None, request=None) -> Saisine:
    """One saisine of the organisation (another organisation's answers 404); audited."""
    with scope(organisation=organisation):
        saisine = (
            Saisine.objects.select_related("person", "assigned_to")
            .filter(organisation=organisation, pk=saisine_id)
            .first()
        )
    if saisine is None:
        raise Http404
    audit_log(
        action=Action.READ,
        request=request,
        actor=user,
        organisation=organisation,
        obj=saisine,
        person_id=saisine.person_id,
    )
    return saisine


def saisine_timeline(saisine: Saisine) -> list[SaisineEvent]:
    with scope(organisation=saisine.organisation):
        return list(
            SaisineEvent.objects.filter(saisine=saisine).select_related("by").order_by("at", "id")
        )


def saisine_orientations(saisine: Saisine) -> list[Orientation]:
    with scope(organisation=saisine.organisation):
        return list(
            Orientation.objects.filter(saisine=saisine)
            .select_related("service", "structure", "professional", "sent_by")
            .order_by("sent_at", "id")
        )


def orientations_flagged(*, organisation) -> QuerySet[Orientation]:
    """Orientations left without answer after the reminder: the coordinator calls them."""
    return (
        Orientation.objects.filter(
            organisation=organisation,
            status=Orientation.Status.NO_ANSWER,
            flagged_at__isnull=False,
        )
        .select_related("saisine")
        .order_by("flagged_at", "id")
    )


# --- The requester's status link -----------------------------------------------------------


def saisine_status_token(saisine: Saisine) -> str:
    return status_token(saisine)


def saisine_from_status_token(token: str) -> Saisine:
    """The saisine a status link points to; ``LinkInvalid`` (French message) otherwise."""
    saisine_id = status_token_read(token)
    with scopes_disabled():
        saisine = Saisine.objects.select_related("organisation").filter(pk=saisine_id).first()
    if saisine is None:
        raise LinkInvalid(_("Cette demande n'existe plus."))
    return saisine


def _status_label(status: str) -> str:
    return {
        Status.RECEIVED: _("Votre demande a bien été reçue ; l'équipe va l'examiner."),
        Status.TRIAGED: _("Votre demande est en cours d'examen par l'équipe."),
        Status.IN_PROGRESS: _("L'équipe s'occupe de votre demande."),
        Status.CLOSED: _("Votre demande est terminée."),
        Status.DECLINED: _("L'équipe n'a pas pu donner suite à votre demande."),
    }[status]


def _decision_label(decision: str) -> str:
    return {
        Decision.INFORMATION: _("L'équipe vous a donné des informations."),
        Decision.ORIENTATION: _("L'équipe a orienté votre demande vers une structure adaptée."),
        Decision.MT_SEARCH: _("L'équipe recherche un médecin traitant."),
        Decision.OPEN_CASE: _("L'équipe met en place un accompagnement."),
        Decision.DECLINE: "",
    }.get(decision, "")


def _orientation_label(status: str) -> str:
    return {
        Orientation.Status.SENT: _(
            "Votre demande a été orientée vers une structure qui n'a pas encore répondu."
        ),
        Orientation.Status.NO_ANSWER: _(
            "Votre demande a été orientée vers une structure qui n'a pas encore répondu ; "
            "l'équipe la relance."
        ),
        Orientation.Status.ACCEPTED: _(
            "Votre demande a été orientée vers une structure qui l'a acceptée."
        ),
        Orientation.Status.DONE: _(
            "Votre demande a été orientée vers une structure qui l'a prise en charge."
        ),
        Orientation.Status.DECLINED: _(
            "Votre demande a été orientée vers une structure qui ne peut pas y donner suite ; "
            "l'équipe cherche une autre solution."
        ),
    }[status]


# The orientation that says most about where the request stands, first.
ORIENTATION_RANK = {
    Orientation.Status.DONE: 0,
    Orientation.Status.ACCEPTED: 1,
    Orientation.Status.SENT: 2,
    Orientation.Status.NO_ANSWER: 3,
    Orientation.Status.DECLINED: 4,
}


def saisine_public_status(saisine: Saisine) -> dict:
    """What the requester's status page shows: no name, no health data, no resource name
    (a structure's name can reveal a condition), no free text typed by the team."""
    with scope(organisation=saisine.organisation):
        statuses = list(
            Orientation.objects.filter(saisine=saisine).values_list("status", flat=True)
        )
    statuses.sort(key=ORIENTATION_RANK.__getitem__)
    return {
        "reference": saisine.reference,
        "organisation": saisine.organisation.name,
        "received_on": timezone.localdate(saisine.received_at),
        "status": saisine.status,
        "status_label": _status_label(saisine.status),
        "decision": saisine.decision,
        "decision_label": _decision_label(saisine.decision),
        "orientation_outcome": _orientation_label(statuses[0]) if statuses else "",
        "orientations": [_orientation_label(status) for status in statuses],
        "mt_found": saisine.mt_found_at is not None,
        "closed_on": timezone.localdate(saisine.closed_at) if saisine.closed_at else None,
        "is_final": saisine.status in FINAL,
    }
