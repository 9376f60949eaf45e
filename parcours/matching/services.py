"""Writes of the médecin traitant search (keyword-only arguments; views, jobs and tests
share them). Bad input raises ``ValidationError`` with a French message; an action the
search's state does not allow raises ``SearchRefused`` (a ``ValidationError``).

Opening
    ``search_open(*, organisation, person, by, data, saisine=None, request=None)``: needs
    the person's commune (the ranking starts from home) and a consent in force for the MT
    search or the coordination (identity, team). From a saisine, records its decision
    "mt_search" when its state allows.
    ``search_update(*, search, by, data, version, request=None)``: preferences and priority.

Solicitations (anonymous, by e-mail; see ``messages.py``)
    ``wave_send(*, search, by=None, now=None, request=None, started_at=None)
    -> list[Solicitation]``: the ``MATCHING_WAVE_SIZE`` best candidates not asked yet, with
    an e-mail (the job passes the stage start it read, so racing runs send one wave).
    ``solicitation_link_open(*, token, request=None, audit=True) -> SolicitationLink``
    ``solicitation_accept(*, solicitation, request=None) -> bool``: True for the winner. The
    search is taken by ONE conditional UPDATE (status open → accepted); the wave's other
    solicitations are withdrawn and their GPs told "already placed, thank you".
    ``solicitation_decline(*, solicitation, reason, note="", request=None)``

Call round, IPA route, médiateur
    ``call_record(*, search, by, professional, outcome, reason="", note="", request=None)``;
    an acceptance by phone takes the search like a link does.
    ``ipa_record(*, search, by, ipa_name, visit_on, evaluation, request=None)``
    ``ipa_propose(*, search, by, professional, follow_up_mode, request=None)``: the GP the
    IPA proposed the file to agreed (shared or intermittent follow-up).
    ``mediator_handoff(*, search, by, request=None)``

After an acceptance
    ``person_choice_record(*, search, by, choice, reason="", request=None)``: accepted →
    found (the saisine learns it); refused → the search goes on without that GP.
    ``mt_declared(*, search, by, declared_on, request=None)``: the outcome; the person's
    médecin traitant is set and the GP's capacity decremented.
    ``search_close(*, search, by, reason, request=None)``: ends without an MT.

Escalation (the periodic job)
    ``searches_escalate_due(now=None) -> dict``: see the module docstring of models.py and
    settings.MATCHING_*; every move is a conditional UPDATE on the stage the job read, so
    two runs (or two workers) move a search once.

No personal data in logs, URLs, subjects or audit details (ids and codes only).
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scope, scopes_disabled

from parcours.audit.models import Action
from parcours.audit.services import audit_log
from parcours.directory.models import Availability, Professional
from parcours.lib.signed_links import LinkInvalid, dump, load, tampered
from parcours.people import services as people_services
from parcours.people.models import C2S, Consent, MedecinTraitantStatus, Person
from parcours.saisines import services as saisine_services
from parcours.saisines.complexity import COMPLEX
from parcours.saisines.models import Decision
from parcours.saisines.models import Status as SaisineStatus

from . import messages, ranking
from .models import (
    Call,
    DeclineReason,
    FollowUp,
    MTSearch,
    MTSearchEvent,
    Priority,
    Solicitation,
)

logger = logging.getLogger(__name__)

Status = MTSearch.Status
Stage = MTSearch.Stage
RUNNING = (Status.OPEN, Status.ACCEPTED, Status.FOUND)
LINK_SALT = "parcours.matching.solicitation"
LINK_ACTIONS = ("accept", "decline")
MAX_DISTANCE_KM = 100
PREFERENCE_FIELDS = (
    "doctor_sex",
    "languages",
    "max_distance_km",
    "home_visits",
    "accessibility",
    "priorities",
    "complex_situation",
    "follow_up",
    "note",
)


class SearchRefused(ValidationError):
    """The search's state does not allow this action (French message)."""


# --- Shared bits ---------------------------------------------------------------------------


def _event(search: MTSearch, kind: str, *, by=None, at=None, text: str = "") -> MTSearchEvent:
    return MTSearchEvent.objects.create(
        organisation_id=search.organisation_id,
        search=search,
        kind=kind,
        at=at or timezone.now(),
        by=by,
        text=text,
    )


def _audit(action, obj, *, search: MTSearch, by=None, request=None, details=None) -> None:
    audit_log(
        action=action,
        request=request,
        actor=by,
        organisation=search.organisation,
        obj=obj,
        person_id=search.person_id,
        details=details or {},
    )


def _locked(search: MTSearch) -> MTSearch:
    return MTSearch.objects.select_for_update().get(pk=search.pk)


def _refused(search: MTSearch) -> SearchRefused:
    return SearchRefused(
        _("Cette recherche est « %(status)s » : cette action n'est plus possible.")
        % {"status": Status(search.status).label.lower()},
        code="status",
    )


def person_age(person: Person, today: datetime.date | None = None) -> int | None:
    if person.birth_date is None:
        return None
    today = today or timezone.localdate()
    born = person.birth_date
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def default_priorities(person: Person) -> list[str]:
    """The priorities the person's record shows (the coordinator completes them)."""
    found = []
    if person.ald:
        found.append(Priority.ALD)
    age = person_age(person)
    if age is not None and age >= 70:
        found.append(Priority.AGE_70)
    if person.c2s in (C2S.FREE, C2S.PAID) or person.ame:
        found.append(Priority.C2S_AME)
    if person.lives_alone:
        found.append(Priority.ISOLATION)
    return [str(value) for value in found]


def wanted_for(search: MTSearch) -> ranking.Wanted:
    return ranking.Wanted(
        latitude=search.latitude,
        longitude=search.longitude,
        radius_km=float(search.radius_km),
        doctor_sex=search.doctor_sex,
        languages=tuple(search.languages or ()),
        home_visits=search.home_visits,
        age_group=ranking.age_group(person_age(search.person)),
    )


def _clean_preferences(data: dict) -> dict:
    data = {name: data[name] for name in PREFERENCE_FIELDS if name in data}
    errors = {}
    if "max_distance_km" in data:
        distance = data["max_distance_km"]
        if not isinstance(distance, int) or not 1 <= distance <= MAX_DISTANCE_KM:
            errors["max_distance_km"] = _("La distance maximale va de 1 à %(max)s km.") % {
                "max": MAX_DISTANCE_KM
            }
    if "doctor_sex" in data and data["doctor_sex"] not in MTSearch.DoctorSex.values:
        errors["doctor_sex"] = _("Choix inconnu.")
    if "follow_up" in data and data["follow_up"] not in FollowUp.values:
        errors["follow_up"] = _("Choisissez le suivi nécessaire.")
    if "priorities" in data:
        if set(data["priorities"]) - set(Priority.values):
            errors["priorities"] = _("Priorité inconnue.")
        data["priorities"] = [value for value in Priority.values if value in data["priorities"]]
    if "languages" in data:
        data["languages"] = sorted({str(code).strip().lower()[:3] for code in data["languages"]})
    if "note" in data:
        data["note"] = str(data["note"] or "").strip()[:5000]
    if errors:
        raise ValidationError(errors)
    return data


# --- Opening -------------------------------------------------------------------------------


def _consent_given(person: Person) -> bool:
    return any(
        people_services.consent_covers(
            person=person,
            purpose=purpose,
            scope=Consent.Scope.TEAM,
            categories=[Consent.Category.IDENTITY],
        )
        for purpose in (Consent.Purpose.MT_SEARCH, Consent.Purpose.COORDINATION)
    )


def _record_saisine_decision(saisine, *, by, request) -> None:
    if saisine.decision == Decision.MT_SEARCH:
        return
    if saisine.status in (SaisineStatus.TRIAGED, SaisineStatus.IN_PROGRESS):
        saisine_services.saisine_decide(
            saisine=saisine, by=by, decision=Decision.MT_SEARCH, request=request
        )


def search_open(
    *, organisation, person: Person, by, data: dict, saisine=None, request=None
) -> MTSearch:
    """Open a search for the person (see the module docstring)."""
    if person.organisation_id != organisation.pk or (
        saisine is not None and saisine.organisation_id != organisation.pk
    ):
        raise ValidationError(_("Cette fiche n'appartient pas à votre organisation."))
    if saisine is not None and saisine.person_id not in (None, person.pk):
        raise ValidationError(_("Cette saisine concerne une autre personne."))
    if person.merged_into_id:
        raise ValidationError(_("Cette fiche a été fusionnée : ouvrez la fiche conservée."))
    if person.commune_id is None:
        raise ValidationError(
            _(
                "Indiquez d'abord la commune de la personne sur sa fiche : la recherche part "
                "de son domicile."
            ),
            code="commune",
        )
    with scope(organisation=organisation):
        consent_given = _consent_given(person)
    if not consent_given:
        raise ValidationError(
            _(
                "Le consentement de la personne à la recherche d'un médecin traitant n'est pas "
                "enregistré : recueillez-le sur sa fiche avant d'ouvrir la recherche."
            ),
            code="consent",
        )
    data = _clean_preferences(data)
    data.setdefault("priorities", default_priorities(person))
    if saisine is not None and saisine.complexity_level is not None:
        data.setdefault("complex_situation", saisine.complexity_level >= COMPLEX)
    location = _geocode(person)
    now = timezone.now()
    with scope(organisation=organisation), transaction.atomic():
        try:
            with transaction.atomic():
                search = MTSearch.objects.create(
                    organisation=organisation,
                    person=person,
                    saisine=saisine,
                    latitude=location.latitude,
                    longitude=location.longitude,
                    location_precision=location.precision,
                    stage_started_at=now,
                    radius_km=data.get("max_distance_km", 10),
                    opened_at=now,
                    opened_by=by,
                    **data,
                )
        except IntegrityError:
            raise ValidationError(
                _("Une recherche de médecin traitant est déjà en cours pour cette personne."),
                code="duplicate",
            ) from None
        _event(search, MTSearchEvent.Kind.OPENED, by=by, at=now, text=_("Recherche ouverte."))
        if saisine is not None:
            _record_saisine_decision(saisine, by=by, request=request)
        _audit(
            Action.CREATE,
            search,
            search=search,
            by=by,
            request=request,
            details={"saisine": saisine.pk if saisine else None},
        )
    return search


def _geocode(person: Person):
    from parcours.directory.geocoding import geocode

    location = geocode(address=person.address, commune=person.commune)
    if location.latitude is None:
        raise ValidationError(
            _("La commune de la personne n'a pas de coordonnées : la distance est inconnue."),
            code="location",
        )
    return location


def search_update(*, search: MTSearch, by, data: dict, version: int, request=None) -> MTSearch:
    """Change the preferences or the priority of a running search (version checked)."""
    data = _clean_preferences(data)
    with scope(organisation=search.organisation), transaction.atomic():
        values = dict(data, version=F("version") + 1)
        if "max_distance_km" in data:  # a radius already widened stays widened
            widened = search.stage not in (Stage.WAVES, Stage.CALL_ROUND)
            factor = settings.MATCHING_WIDER_FACTOR if widened else 1
            values["radius_km"] = data["max_distance_km"] * factor
        if not MTSearch.objects.filter(pk=search.pk, version=version, status__in=RUNNING).update(
            **values
        ):
            search.refresh_from_db()
            if search.status not in RUNNING:
                raise _refused(search)
            raise ValidationError(
                _(
                    "Cette recherche a changé pendant que vous la modifiiez : rechargez la page, "
                    "puis refaites votre modification."
                ),
                code="version",
            )
        search.refresh_from_db()
        _audit(
            Action.UPDATE,
            search,
            search=search,
            by=by,
            request=request,
            details={"fields": sorted(data)},
        )
    return search


# --- Waves ---------------------------------------------------------------------------------


def asked_professionals(search: MTSearch) -> set[int]:
    """GPs already asked in this search by e-mail, who answered on the phone, or whom the
    person did not want."""
    asked = set(
        Solicitation.objects.filter(search=search).values_list("professional_id", flat=True)
    )
    asked |= set(
        Call.objects.filter(
            search=search, outcome__in=[Call.Outcome.REFUSED, Call.Outcome.ACCEPTED]
        ).values_list("professional_id", flat=True)
    )
    return asked | set(search.refused_professionals or ())


def search_ranking(
    search: MTSearch,
    *,
    include_asked: bool = False,
    now=None,
    limit: int | None = None,
    email_only: bool = False,
) -> list:
    """The candidates for this search, best first, each explained (``limit``: only that
    many best, much cheaper in a dense city; see ``ranking.rank``)."""
    exclude = set() if include_asked else asked_professionals(search)
    if search.accepted_professional_id:
        exclude.add(search.accepted_professional_id)
    return ranking.rank(
        organisation=search.organisation,
        wanted=wanted_for(search),
        exclude=exclude,
        today=timezone.localdate(now) if now else None,
        now=now,
        limit=limit,
        email_only=email_only,
    )


def link_token(solicitation: Solicitation, action: str) -> str:
    if action not in LINK_ACTIONS:
        raise ValueError(action)
    return dump({"s": solicitation.pk, "a": action}, salt=LINK_SALT)


def link_url(solicitation: Solicitation, action: str) -> str:
    return settings.SITE_URL + reverse(
        "matching:solicitation-answer", args=[link_token(solicitation, action)]
    )


def wave_send(
    *, search: MTSearch, by=None, now=None, request=None, started_at=None
) -> list[Solicitation]:
    """Ask the next best candidates by e-mail (nothing when none is left). The job passes
    the ``stage_started_at`` it read: nothing is sent if another run moved the search."""
    now = now or timezone.now()
    with scope(organisation=search.organisation), transaction.atomic():
        locked = _locked(search)
        if locked.status != Status.OPEN or locked.stage not in (Stage.WAVES, Stage.WIDER):
            raise _refused(locked)
        if started_at is not None and locked.stage_started_at != started_at:
            return []
        chosen = search_ranking(locked, now=now, limit=settings.MATCHING_WAVE_SIZE, email_only=True)
        wave = locked.wave + 1
        created = []
        for rank_number, candidate in enumerate(chosen, start=1):
            created.append(
                Solicitation.objects.create(
                    organisation_id=locked.organisation_id,
                    search=locked,
                    professional_id=candidate.professional_id,
                    wave=wave,
                    email=candidate.email,
                    rank=rank_number,
                    score=candidate.score,
                    distance_km=candidate.distance_km,
                    explanation=candidate.explanation,
                    sent_at=now,
                )
            )
        person = search.person
        for solicitation in list(created):
            if not messages.send_solicitation(solicitation, search=locked, person=person):
                solicitation.delete()  # not asked: the next wave or the call round will
                created.remove(solicitation)
        MTSearch.objects.filter(pk=locked.pk).update(
            wave=wave if created else locked.wave, stage_started_at=now
        )
        if created:
            text = _("Vague %(wave)s : %(n)s médecin(s) sollicité(s) par e-mail.") % {
                "wave": wave,
                "n": len(created),
            }
        elif chosen:
            text = _("Vague %(wave)s : les e-mails n'ont pas pu partir ; réessayez.") % {
                "wave": wave
            }
        else:
            text = _(
                "Aucun médecin du vivier à solliciter par e-mail dans le rayon de %(km)s km."
            ) % {"km": locked.radius_km}
        _event(locked, MTSearchEvent.Kind.WAVE, by=by, at=now, text=text)
        _audit(
            Action.CREATE,
            locked,
            search=locked,
            by=by,
            request=request,
            details={"wave": wave, "professionals": [s.professional_id for s in created]},
        )
    search.refresh_from_db()
    return created


# --- The GP's answer from a link -----------------------------------------------------------


@dataclass(frozen=True)
class SolicitationLink:
    solicitation: Solicitation
    action: str  # accept / decline

    @property
    def search(self) -> MTSearch:
        return self.solicitation.search


def _solicitation(pk) -> Solicitation | None:
    with scopes_disabled():
        return (
            Solicitation.objects.select_related(
                "organisation", "search__organisation", "search__person__commune", "professional"
            )
            .filter(pk=pk)
            .first()
        )


def solicitation_link_open(*, token: str, request=None, audit: bool = True) -> SolicitationLink:
    """The solicitation and answer a link carries (``LinkInvalid`` if unusable); audited."""
    try:
        data = load(token, salt=LINK_SALT, days=settings.MATCHING_LINK_DAYS)
    except LinkInvalid as error:
        if error.expired:
            expired = _solicitation(error.payload.get("s"))
            if expired is not None:
                error.message = " ".join(
                    [
                        error.message,
                        _("Si vous pouvez accueillir ce patient, contactez %(organisation)s.")
                        % {"organisation": expired.organisation.name},
                    ]
                )
        raise
    try:
        pk, action = int(data["s"]), str(data["a"])
    except (KeyError, TypeError, ValueError):
        raise tampered() from None
    if action not in LINK_ACTIONS:
        raise tampered()
    solicitation = _solicitation(pk)
    if solicitation is None:
        raise LinkInvalid(_("Cette demande n'existe plus."))
    if audit:
        audit_log(
            action=Action.LINK_OPENED,
            request=request,
            organisation=solicitation.organisation,
            obj=solicitation,
            person_id=solicitation.search.person_id,
            details={"action": action},
        )
    return SolicitationLink(solicitation=solicitation, action=action)


def _take(search: MTSearch, *, professional_id: int, via: str, now, by=None, **extra) -> bool:
    """THE acceptance: one conditional UPDATE; True if this one won the search."""
    return bool(
        MTSearch.objects.filter(
            pk=search.pk, status=Status.OPEN, accepted_professional__isnull=True
        ).update(
            status=Status.ACCEPTED,
            accepted_professional_id=professional_id,
            accepted_at=now,
            accepted_via=via,
            person_choice="",
            person_choice_at=None,
            version=F("version") + 1,
            **extra,
        )
    )


def _withdraw_others(search: MTSearch, *, now, keep: int | None = None) -> list[Solicitation]:
    pending = Solicitation.objects.filter(search=search, status=Solicitation.Status.SENT)
    if keep is not None:
        pending = pending.exclude(pk=keep)
    withdrawn = list(pending.select_related("professional"))
    Solicitation.objects.filter(pk__in=[s.pk for s in withdrawn]).update(
        status=Solicitation.Status.WITHDRAWN, answered_at=now
    )
    return withdrawn


def _accepted(search: MTSearch, *, professional: Professional, via: str, by, now, request):
    """What follows a won acceptance: withdraw the others, timeline, audit, tell them."""
    withdrawn = _withdraw_others(search, now=now)
    _event(
        search,
        MTSearchEvent.Kind.ACCEPTED,
        by=by,
        at=now,
        text=_("%(name)s accepte de suivre la personne (%(via)s).")
        % {"name": str(professional), "via": MTSearch.Via(via).label.lower()},
    )
    _audit(
        Action.UPDATE,
        search,
        search=search,
        by=by,
        request=request,
        details={"accepted": professional.pk, "via": via, "withdrawn": len(withdrawn)},
    )
    for solicitation in withdrawn:
        messages.send_withdrawn(solicitation)
    messages.notify_team_accepted(search)


def solicitation_accept(*, solicitation: Solicitation, request=None) -> bool:
    """The GP accepts from the link: True if first (the search is his), else False."""
    now = timezone.now()
    search = solicitation.search
    with scope(organisation=solicitation.organisation), transaction.atomic():
        # The search row first: concurrent acceptances queue here instead of deadlocking
        # (each would hold its own solicitation and wait for the other's, withdrawn).
        _locked(search)
        if not Solicitation.objects.filter(
            pk=solicitation.pk, status=Solicitation.Status.SENT
        ).update(status=Solicitation.Status.ACCEPTED, answered_at=now):
            solicitation.refresh_from_db()
            return solicitation.status == Solicitation.Status.ACCEPTED and (
                MTSearch.objects.filter(
                    pk=search.pk, accepted_professional_id=solicitation.professional_id
                ).exists()
            )
        won = _take(
            search, professional_id=solicitation.professional_id, via=MTSearch.Via.EMAIL, now=now
        )
        if not won:  # another GP was first: this request is withdrawn
            Solicitation.objects.filter(pk=solicitation.pk).update(
                status=Solicitation.Status.WITHDRAWN
            )
            solicitation.refresh_from_db()
            return False
        search.refresh_from_db()
        _accepted(
            search,
            professional=solicitation.professional,
            via=MTSearch.Via.EMAIL,
            by=None,
            now=now,
            request=request,
        )
    solicitation.refresh_from_db()
    return True


def _reason(reason: str, note: str) -> tuple[str, str]:
    if reason not in DeclineReason.values:
        raise ValidationError({"reason": _("Choisissez un motif.")})
    note = (note or "").strip()[:500]
    if reason == DeclineReason.OTHER and not note:
        raise ValidationError({"note": _("Précisez le motif.")})
    return reason, note


def solicitation_decline(
    *, solicitation: Solicitation, reason: str, note: str = "", request=None
) -> Solicitation:
    """The GP cannot take the patient: the reason is kept (refusals by reason)."""
    reason, note = _reason(reason, note)
    now = timezone.now()
    with scope(organisation=solicitation.organisation), transaction.atomic():
        if not Solicitation.objects.filter(
            pk=solicitation.pk, status=Solicitation.Status.SENT
        ).update(
            status=Solicitation.Status.DECLINED,
            answered_at=now,
            decline_reason=reason,
            decline_note=note,
        ):
            solicitation.refresh_from_db()
            raise SearchRefused(
                _("Cette demande a déjà reçu une réponse ou a été retirée : merci."),
                code="answered",
            )
        solicitation.refresh_from_db()
        _event(
            solicitation.search,
            MTSearchEvent.Kind.ANSWER,
            at=now,
            text=_("%(name)s ne peut pas : %(reason)s.")
            % {
                "name": str(solicitation.professional),
                "reason": DeclineReason(reason).label.lower(),
            },
        )
        _audit(
            Action.UPDATE,
            solicitation,
            search=solicitation.search,
            request=request,
            details={"status": "declined", "reason": reason},
        )
    return solicitation


# --- Call round ----------------------------------------------------------------------------


def call_record(
    *,
    search: MTSearch,
    by,
    professional: Professional,
    outcome: str,
    phone: str = "",
    reason: str = "",
    note: str = "",
    request=None,
) -> Call:
    """One call's outcome; an acceptance takes the search (first acceptance wins)."""
    if outcome not in Call.Outcome.values:
        raise ValidationError({"outcome": _("Choisissez le résultat de l'appel.")})
    if outcome == Call.Outcome.REFUSED:
        reason, note = _reason(reason, note)
    else:
        reason, note = "", (note or "").strip()[:500]
    now = timezone.now()
    with scope(organisation=search.organisation), transaction.atomic():
        locked = _locked(search)
        if locked.status != Status.OPEN:
            raise _refused(locked)
        call = Call.objects.create(
            organisation_id=locked.organisation_id,
            search=locked,
            professional=professional,
            phone=(phone or "")[:30],
            outcome=outcome,
            reason=reason,
            note=note,
            at=now,
            by=by,
        )
        pending = Solicitation.objects.filter(
            search=locked, professional=professional, status=Solicitation.Status.SENT
        )
        if outcome == Call.Outcome.ACCEPTED:
            if not _take(locked, professional_id=professional.pk, via=MTSearch.Via.PHONE, now=now):
                raise _refused(locked)
            pending.update(status=Solicitation.Status.ACCEPTED, answered_at=now)
            locked.refresh_from_db()
            _accepted(
                locked,
                professional=professional,
                via=MTSearch.Via.PHONE,
                by=by,
                now=now,
                request=request,
            )
        else:
            if outcome == Call.Outcome.REFUSED:
                pending.update(
                    status=Solicitation.Status.DECLINED,
                    answered_at=now,
                    decline_reason=reason,
                    decline_note=note,
                )
            label = Call.Outcome(outcome).label.lower()
            if reason:
                label = f"{label} ({DeclineReason(reason).label.lower()})"
            _event(
                locked,
                MTSearchEvent.Kind.CALL,
                by=by,
                at=now,
                text=_("Appel à %(name)s : %(outcome)s.")
                % {"name": str(professional), "outcome": label},
            )
            _audit(
                Action.CREATE,
                call,
                search=locked,
                by=by,
                request=request,
                details={"professional": professional.pk, "outcome": outcome, "reason": reason},
            )
    search.refresh_from_db()
    return call


# --- The person's choice, the outcome --------------------------------------------------------


def person_choice_record(
    *, search: MTSearch, by, choice: str, reason: str = "", request=None
) -> MTSearch:
    """The person's answer to the proposed GP; the choice is the person's."""
    if choice not in MTSearch.Choice.values:
        raise ValidationError({"choice": _("Indiquez le choix de la personne.")})
    reason = (reason or "").strip()[:2000]
    if choice == MTSearch.Choice.REFUSED and not reason:
        raise ValidationError({"reason": _("Indiquez pourquoi la personne refuse ce médecin.")})
    now = timezone.now()
    with scope(organisation=search.organisation), transaction.atomic():
        locked = _locked(search)
        if locked.status != Status.ACCEPTED:
            raise _refused(locked)
        professional = locked.accepted_professional
        if choice == MTSearch.Choice.ACCEPTED:
            MTSearch.objects.filter(pk=locked.pk).update(
                status=Status.FOUND,
                person_choice=choice,
                person_choice_at=now,
                version=F("version") + 1,
            )
            text = _("La personne choisit %(name)s.") % {"name": str(professional)}
        else:
            MTSearch.objects.filter(pk=locked.pk).update(
                status=Status.OPEN,
                person_choice="",
                person_choice_at=None,
                accepted_professional=None,
                accepted_at=None,
                accepted_via="",
                follow_up_mode="",
                refused_professionals=sorted({*locked.refused_professionals, professional.pk}),
                stage_started_at=now,
                version=F("version") + 1,
            )
            text = _("La personne ne souhaite pas %(name)s : %(reason)s") % {
                "name": str(professional),
                "reason": reason,
            }
        _event(locked, MTSearchEvent.Kind.CHOICE, by=by, at=now, text=text)
        _audit(
            Action.UPDATE,
            locked,
            search=locked,
            by=by,
            request=request,
            details={"choice": choice, "professional": professional.pk},
        )
        search.refresh_from_db()
        if choice == MTSearch.Choice.ACCEPTED and search.saisine_id:
            saisine_services.saisine_mt_found(saisine=search.saisine, by=by, request=request)
    return search


def mt_declared(*, search: MTSearch, by, declared_on: datetime.date, request=None) -> MTSearch:
    """The outcome: the person declared the GP as médecin traitant."""
    today = timezone.localdate()
    if declared_on is None or declared_on > today:
        raise ValidationError({"declared_on": _("La date de déclaration ne peut pas être future.")})
    now = timezone.now()
    with scope(organisation=search.organisation), transaction.atomic():
        locked = _locked(search)
        if locked.status != Status.FOUND:
            raise _refused(locked)
        if declared_on < timezone.localdate(locked.opened_at):
            raise ValidationError(
                {
                    "declared_on": _(
                        "La déclaration ne peut pas précéder l'ouverture de la recherche."
                    )
                }
            )
        MTSearch.objects.filter(pk=locked.pk).update(
            status=Status.DECLARED,
            declared_on=declared_on,
            closed_at=now,
            version=F("version") + 1,
        )
        professional_id = locked.accepted_professional_id
        Person.objects.filter(pk=locked.person_id).update(
            medecin_traitant_id=professional_id,
            medecin_traitant_status=MedecinTraitantStatus.KNOWN,
            updated_at=now,
            version=F("version") + 1,
        )
        Availability.objects.filter(
            organisation_id=locked.organisation_id,
            professional_id=professional_id,
            capacity__gt=0,
        ).update(capacity=F("capacity") - 1)
        _event(
            locked,
            MTSearchEvent.Kind.DECLARED,
            by=by,
            at=now,
            text=_("Médecin traitant déclaré le %(date)s.")
            % {"date": declared_on.strftime("%d/%m/%Y")},
        )
        _audit(
            Action.UPDATE,
            locked,
            search=locked,
            by=by,
            request=request,
            details={"declared_on": declared_on.isoformat(), "professional": professional_id},
        )
    search.refresh_from_db()
    return search


def search_close(*, search: MTSearch, by, reason: str, request=None) -> MTSearch:
    reason = (reason or "").strip()[:2000]
    if not reason:
        raise ValidationError({"reason": _("Indiquez pourquoi la recherche s'arrête.")})
    now = timezone.now()
    with scope(organisation=search.organisation), transaction.atomic():
        locked = _locked(search)
        if locked.status not in RUNNING:
            raise _refused(locked)
        MTSearch.objects.filter(pk=locked.pk).update(
            status=Status.CLOSED, close_reason=reason, closed_at=now, version=F("version") + 1
        )
        withdrawn = _withdraw_others(locked, now=now)
        _event(locked, MTSearchEvent.Kind.CLOSED, by=by, at=now, text=reason)
        _audit(
            Action.UPDATE, locked, search=locked, by=by, request=request, details={"closed": True}
        )
    search.refresh_from_db()
    for solicitation in withdrawn:
        messages.send_withdrawn(solicitation, placed=False)
    return search


# --- IPA route, médiateur --------------------------------------------------------------------


def ipa_eligible(search: MTSearch) -> bool:
    """ALD or complex situations take the IPA route before the médiateur."""
    return Priority.ALD in (search.priorities or []) or search.complex_situation


def ipa_record(
    *,
    search: MTSearch,
    by,
    ipa_name: str,
    visit_on: datetime.date,
    evaluation: str,
    request=None,
) -> MTSearch:
    """The IPA's evaluation visit."""
    ipa_name = (ipa_name or "").strip()[:200]
    evaluation = (evaluation or "").strip()[:10000]
    errors = {}
    if not ipa_name:
        errors["ipa_name"] = _("Indiquez l'IPA qui a évalué la personne.")
    if visit_on is None or visit_on > timezone.localdate():
        errors["visit_on"] = _("Indiquez la date de la visite (pas dans le futur).")
    if errors:
        raise ValidationError(errors)
    with scope(organisation=search.organisation), transaction.atomic():
        locked = _locked(search)
        if locked.status != Status.OPEN:
            raise _refused(locked)
        MTSearch.objects.filter(pk=locked.pk).update(
            ipa_name=ipa_name,
            ipa_visit_on=visit_on,
            ipa_evaluation=evaluation,
            version=F("version") + 1,
        )
        _event(
            locked,
            MTSearchEvent.Kind.IPA,
            by=by,
            text=_("Visite d'évaluation par %(ipa)s le %(date)s.")
            % {"ipa": ipa_name, "date": visit_on.strftime("%d/%m/%Y")},
        )
        _audit(
            Action.UPDATE,
            locked,
            search=locked,
            by=by,
            request=request,
            details={"ipa_visit_on": visit_on.isoformat()},
        )
    search.refresh_from_db()
    return search


def ipa_propose(
    *, search: MTSearch, by, professional: Professional, follow_up_mode: str, request=None
) -> MTSearch:
    """The GP to whom the IPA proposed the file agreed, with shared or intermittent
    follow-up: the search is his (first acceptance wins, as always)."""
    if follow_up_mode not in MTSearch.FollowUpMode.values:
        raise ValidationError({"follow_up_mode": _("Choisissez la modalité du suivi.")})
    now = timezone.now()
    with scope(organisation=search.organisation), transaction.atomic():
        locked = _locked(search)
        if locked.status != Status.OPEN:
            raise _refused(locked)
        if not locked.ipa_visit_on:
            raise SearchRefused(
                _("Enregistrez d'abord la visite d'évaluation de l'IPA."), code="ipa"
            )
        if not _take(
            locked,
            professional_id=professional.pk,
            via=MTSearch.Via.IPA,
            now=now,
            follow_up_mode=follow_up_mode,
        ):
            raise _refused(locked)
        locked.refresh_from_db()
        _accepted(
            locked,
            professional=professional,
            via=MTSearch.Via.IPA,
            by=by,
            now=now,
            request=request,
        )
    search.refresh_from_db()
    return search


def mediator_handoff(*, search: MTSearch, by=None, now=None, request=None) -> MTSearch:
    """Hand the file to the CPAM médiateur (the hand-off page lists every doctor asked)."""
    now = now or timezone.now()
    with scope(organisation=search.organisation), transaction.atomic():
        locked = _locked(search)
        if locked.status != Status.OPEN or locked.handed_off_at is not None:
            raise _refused(locked)
        if locked.stage != Stage.MEDIATOR:
            _move(locked, Stage.MEDIATOR, now=now, by=by, handed_off_at=now)
        else:  # the job moved it there: the coordinator now sends the file
            MTSearch.objects.filter(pk=locked.pk, handed_off_at__isnull=True).update(
                handed_off_at=now, version=F("version") + 1
            )
            _event(
                locked,
                MTSearchEvent.Kind.STAGE,
                by=by,
                at=now,
                text=_("Dossier transmis au médiateur de la CPAM."),
            )
        _audit(
            Action.UPDATE,
            locked,
            search=locked,
            by=by,
            request=request,
            details={"stage": Stage.MEDIATOR},
        )
    search.refresh_from_db()
    return search


# --- Escalation ------------------------------------------------------------------------------

STAGE_TEXT = {
    Stage.CALL_ROUND: gettext_lazy("Pas d'acceptation : tour d'appels des médecins."),
    Stage.WIDER: gettext_lazy("Toujours sans médecin : le rayon de recherche passe à %(km)s km."),
    Stage.IPA: gettext_lazy(
        "Situation ALD ou complexe : parcours IPA (évaluation, puis proposition à un "
        "médecin pour un suivi partagé)."
    ),
    Stage.MEDIATOR: gettext_lazy(
        "Aucun médecin trouvé : dossier à transmettre au médiateur de la CPAM."
    ),
}


def _move(search: MTSearch, stage: str, *, now, by=None, **extra) -> bool:
    """Move the search to ``stage`` if it is still where the caller read it."""
    moved = MTSearch.objects.filter(
        pk=search.pk,
        status=Status.OPEN,
        stage=search.stage,
        stage_started_at=search.stage_started_at,
    ).update(stage=stage, stage_started_at=now, version=F("version") + 1, **extra)
    if moved:
        radius = extra.get("radius_km", search.radius_km)
        _event(
            search,
            MTSearchEvent.Kind.STAGE,
            by=by,
            at=now,
            text=str(STAGE_TEXT[stage]) % {"km": radius},
        )
        search.refresh_from_db()
    return bool(moved)


def _escalate(search: MTSearch, now: datetime.datetime) -> str:
    """Move one search on if its stage has lasted long enough; the new stage or ""."""
    elapsed = now - search.stage_started_at
    hours = datetime.timedelta(hours=settings.MATCHING_WAVE_HOURS)
    if search.stage == Stage.WAVES and elapsed >= hours:
        if search.wave < settings.MATCHING_WAVES and wave_send(
            search=search, now=now, started_at=search.stage_started_at
        ):
            return "wave"
        return Stage.CALL_ROUND if _move(search, Stage.CALL_ROUND, now=now) else ""
    if search.stage == Stage.CALL_ROUND and elapsed >= datetime.timedelta(
        days=settings.MATCHING_CALL_ROUND_DAYS
    ):
        radius = min(search.radius_km * settings.MATCHING_WIDER_FACTOR, MAX_DISTANCE_KM * 2)
        if _move(search, Stage.WIDER, now=now, radius_km=radius):
            wave_send(search=search, now=now)
            return Stage.WIDER
        return ""
    if search.stage == Stage.WIDER and elapsed >= datetime.timedelta(
        days=settings.MATCHING_WIDER_DAYS
    ):
        stage = Stage.IPA if ipa_eligible(search) else Stage.MEDIATOR
        return stage if _move(search, stage, now=now) else ""
    if search.stage == Stage.IPA and elapsed >= datetime.timedelta(days=settings.MATCHING_IPA_DAYS):
        return Stage.MEDIATOR if _move(search, Stage.MEDIATOR, now=now) else ""
    return ""


def solicitations_expire(now: datetime.datetime) -> int:
    """Requests whose links have expired are marked without answer."""
    cutoff = now - datetime.timedelta(days=settings.MATCHING_LINK_DAYS)
    with scopes_disabled():
        return Solicitation.objects.filter(
            status=Solicitation.Status.SENT, sent_at__lt=cutoff
        ).update(status=Solicitation.Status.EXPIRED)


def searches_escalate_due(now: datetime.datetime | None = None) -> dict:
    """The periodic job: escalate every open search whose stage is over."""
    now = now or timezone.now()
    counts: dict[str, int] = {"expired": solicitations_expire(now)}
    shortest = min(
        datetime.timedelta(hours=settings.MATCHING_WAVE_HOURS),
        datetime.timedelta(days=settings.MATCHING_CALL_ROUND_DAYS),
        datetime.timedelta(days=settings.MATCHING_WIDER_DAYS),
        datetime.timedelta(days=settings.MATCHING_IPA_DAYS),
    )
    with scopes_disabled():
        due = list(
            MTSearch.objects.filter(status=Status.OPEN, stage_started_at__lte=now - shortest)
            .exclude(stage=Stage.MEDIATOR)
            .select_related("organisation", "person")
            .order_by("stage_started_at", "pk")
        )
    for search in due:
        try:
            with scope(organisation=search.organisation):
                moved = _escalate(search, now)
        except ValidationError:  # changed meanwhile (accepted, closed): nothing to do
            continue
        except Exception as error:  # one search must not stop the others
            logger.warning("mt search %s: escalation failed (%s)", search.pk, type(error).__name__)
            continue
        if moved:
            counts[moved] = counts.get(moved, 0) + 1
    return counts
