"""Writes of the team's pages that ``services.py`` does not hold (yet): who follows a
saisine, which person it concerns, and the triage's decisions put together.

- ``saisine_assign(*, saisine, by, to, expected, request=None)``: ``to`` (a coordinator or
  administrator of the organisation, or None) follows the saisine; refused when someone
  changed the assignment since ``expected`` (the id the page showed) or the saisine is final.
- ``saisine_identify(*, saisine, by, person, request=None)``: the saisine concerns this
  person (the kept record when merged); conditional on the version read; records the
  consent the requester declared (``declared_consent``) unless one in force covers it.
- ``saisine_identify_new(*, saisine, by, data, request=None)``: creates the person
  (``people.services.person_create``) and identifies it, in one transaction.
- ``triage_screen``: the complexity screening → ``saisine_triage`` with its level.
- ``triage_inform``: decision "information" and closure with what was given, together.
- ``triage_orient``: decision "orientation" (once) and one ``orientation_send`` per resource;
  every resource is checked before anything is sent.

Each raises ``ValidationError`` (``TransitionRefused`` for a state or version conflict)
with a French message, as the services do.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope

from parcours.accounts.models import Membership, Role
from parcours.audit.models import Action
from parcours.audit.services import audit_log
from parcours.people import services as people_services
from parcours.people.models import Consent, Person

from . import services
from .complexity import complexity_level, complexity_scores
from .models import Channel, Decision, Origin, Saisine, SaisineEvent, Status

FINAL = (Status.CLOSED, Status.DECLINED)
FOLLOWERS = (Role.COORDINATOR, Role.ADMINISTRATOR)
RESIDENT_ORIGINS = (Origin.RESIDENT, Origin.RELATIVE)
ALL_CATEGORIES = (Consent.Category.IDENTITY, Consent.Category.HEALTH, Consent.Category.SOCIAL)


def _event(saisine: Saisine, *, by, text: str) -> None:
    SaisineEvent.objects.create(
        organisation_id=saisine.organisation_id,
        saisine=saisine,
        kind=SaisineEvent.Kind.NOTE,
        at=timezone.now(),
        by=by,
        text=text,
    )


def _audit(saisine: Saisine, *, by, request, details: dict) -> None:
    audit_log(
        action=Action.UPDATE,
        request=request,
        actor=by,
        organisation=saisine.organisation,
        obj=saisine,
        person_id=saisine.person_id,
        details=details,
    )


def _final_refusal(saisine: Saisine) -> services.TransitionRefused:
    return services.TransitionRefused(
        _("Cette saisine est terminée : elle ne peut plus être modifiée."), code="final"
    )


# --- Who follows the saisine ---------------------------------------------------------------


def _check_follower(saisine: Saisine, user) -> None:
    if user is None:
        return
    with scope(organisation=saisine.organisation):
        allowed = Membership.objects.filter(
            organisation=saisine.organisation, user=user, is_active=True, role__in=FOLLOWERS
        ).exists()
    if not allowed:
        raise ValidationError(
            _(
                "Seul un coordinateur ou un administrateur de l'organisation peut suivre "
                "une saisine."
            )
        )


def saisine_assign(*, saisine: Saisine, by, to, expected: int | None, request=None) -> Saisine:
    """``to`` follows the saisine (None: nobody) if nobody changed it since ``expected``."""
    _check_follower(saisine, to)
    with scope(organisation=saisine.organisation), transaction.atomic():
        updated = (
            Saisine.objects.filter(pk=saisine.pk, assigned_to_id=expected)
            .exclude(status__in=FINAL)
            .update(assigned_to=to)
        )
        if not updated:
            saisine.refresh_from_db()
            if saisine.status in FINAL:
                raise _final_refusal(saisine)
            raise services.TransitionRefused(
                _(
                    "Le suivi de cette saisine vient d'être changé par quelqu'un d'autre : "
                    "rechargez la page pour voir qui la suit."
                ),
                code="version",
            )
        saisine.refresh_from_db()
        if to is None:
            text = _("Plus personne ne suit la saisine.")
        else:
            text = _("Saisine suivie par %(name)s.") % {"name": to.get_full_name() or to.email}
        _event(saisine, by=by, text=text)
        _audit(saisine, by=by, request=request, details={"assigned_to": getattr(to, "pk", None)})
    return saisine


# --- The person ----------------------------------------------------------------------------


def declared_consent(saisine: Saisine, *, by=None) -> dict | None:
    """The consent the requester declared on the saisine, as ``consent_record`` arguments
    (without the person); None when none was declared.

    A resident's online form: identity and contact only (its consent text says so),
    "online". A resident or relative on the phone or at the desk: told to the team,
    "oral", collected by the coordinator. A professional: "professional", collected by him.
    """
    if not saisine.consent_given:
        return None
    received = saisine.received_at
    if saisine.origin in RESIDENT_ORIGINS and saisine.channel == Channel.WEB:
        return {
            "method": Consent.Method.ONLINE,
            "categories": [Consent.Category.IDENTITY],
            "by": None,
            "by_name": saisine.requester_name or _("Formulaire en ligne"),
            "at": received,
        }
    if saisine.origin in RESIDENT_ORIGINS:
        collector = saisine.created_by or by
        return {
            "method": Consent.Method.ORAL,
            "categories": list(ALL_CATEGORIES),
            "by": collector,
            "by_name": "" if collector else _("L'équipe de coordination"),
            "at": received,
        }
    return {
        "method": Consent.Method.BY_PROFESSIONAL,
        "categories": list(ALL_CATEGORIES),
        "by": saisine.requester_user,
        "by_name": "" if saisine.requester_user else (saisine.requester_name or _("Demandeur")),
        "at": received,
    }


def _record_declared_consent(saisine: Saisine, person: Person, *, by, request) -> bool:
    declared = declared_consent(saisine, by=by)
    if declared is None:
        return False
    if people_services.consent_covers(
        person=person,
        purpose=Consent.Purpose.COORDINATION,
        scope=Consent.Scope.TEAM,
        categories=declared["categories"],
    ):
        return False
    people_services.consent_record(
        person=person,
        purpose=Consent.Purpose.COORDINATION,
        scope=Consent.Scope.TEAM,
        request=request,
        **declared,
    )
    return True


def saisine_identify(*, saisine: Saisine, by, person: Person, request=None) -> Saisine:
    """The saisine concerns ``person`` (see the module docstring)."""
    if person.organisation_id != saisine.organisation_id:
        raise ValidationError(_("Cette personne n'appartient pas à votre organisation."))
    with scope(organisation=saisine.organisation), transaction.atomic():
        person = people_services.person_kept_record(person)
        updated = (
            Saisine.objects.filter(pk=saisine.pk, version=saisine.version)
            .exclude(status__in=FINAL)
            .update(person=person, version=F("version") + 1)
        )
        if not updated:
            current = Saisine._base_manager.filter(pk=saisine.pk).values_list("status").first()
            if current and current[0] in FINAL:
                raise _final_refusal(saisine)
            raise services.TransitionRefused(
                _(
                    "La saisine vient d'être modifiée par quelqu'un d'autre : rechargez la "
                    "page pour voir son état actuel, puis recommencez."
                ),
                code="version",
            )
        saisine.refresh_from_db()
        _event(saisine, by=by, text=_("Personne identifiée (fiche n° %(id)s).") % {"id": person.pk})
        consent = _record_declared_consent(saisine, person, by=by, request=request)
        _audit(saisine, by=by, request=request, details={"person": person.pk, "consent": consent})
    return saisine


def saisine_identify_new(*, saisine: Saisine, by, data: dict, request=None) -> Saisine:
    """Create the person from ``data`` (people's fields) and identify the saisine with it."""
    with scope(organisation=saisine.organisation), transaction.atomic():
        person = people_services.person_create(
            organisation=saisine.organisation, by=by, data=data, request=request
        )
        return saisine_identify(saisine=saisine, by=by, person=person, request=request)


# --- The triage ----------------------------------------------------------------------------


def triage_screen(*, saisine: Saisine, by, scores: dict, request=None) -> Saisine:
    """Record the complexity screening (scores per dimension) and its level."""
    try:
        scores = complexity_scores(scores)
    except ValueError:
        raise ValidationError(_("Le repérage de la complexité est mal formé.")) from None
    return services.saisine_triage(
        saisine=saisine,
        by=by,
        complexity=scores,
        level=complexity_level(scores),
        request=request,
    )


def triage_inform(*, saisine: Saisine, by, what: str, request=None) -> Saisine:
    """Information given: the decision and the closure with what was given, or neither."""
    with transaction.atomic():
        services.saisine_decide(
            saisine=saisine, by=by, decision=Decision.INFORMATION, note=what, request=request
        )
        return services.saisine_close(saisine=saisine, by=by, outcome=what, request=request)


def triage_orient(
    *, saisine: Saisine, by, resources: list, message: str = "", by_phone=False, request=None
) -> tuple[list, list[str]]:
    """Decide "orientation" (unless already decided) and orient to each resource.

    Every resource is checked first (an e-mail, unless by phone): a missing one refuses
    everything, nothing sent. Returns (orientations sent, French messages for resources
    that could not be oriented after the checks, e.g. one already pending)."""
    if not resources:
        raise ValidationError(_("Choisissez au moins une ressource de l'annuaire."))
    problems = []
    for resource in resources:
        try:
            recipient = services._recipient(resource, saisine)  # name, e-mail, ownership
        except ValidationError as error:
            problems.extend(error.messages)
            continue
        if not recipient.email and not by_phone:
            problems.append(
                _(
                    "%(name)s n'a pas d'adresse e-mail dans l'annuaire : appelez-la, puis "
                    "cochez « orientation faite par téléphone »."
                )
                % {"name": recipient.name}
            )
    if problems:
        raise ValidationError(problems)
    if not (saisine.status == Status.IN_PROGRESS and saisine.decision == Decision.ORIENTATION):
        services.saisine_decide(
            saisine=saisine, by=by, decision=Decision.ORIENTATION, request=request
        )
    sent, failed = [], []
    for resource in resources:
        try:
            sent.append(
                services.orientation_send(
                    saisine=saisine,
                    by=by,
                    resource=resource,
                    message=message,
                    by_phone=by_phone,
                    request=request,
                )
            )
        except ValidationError as error:
            failed.extend(error.messages)
    return sent, failed
