"""Writes on people and their consents: creation, edits, merges, consent and withdrawal.

Also the rules the pages and the later modules share: the match key and duplicate
detection, the identity checks (NIR, birth date) and what a consent covers.
"""

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from parcours.accounts.models import Organisation, User
from parcours.audit.models import Action
from parcours.audit.services import audit_log
from parcours.lib.nir import nir_error, nir_normalise
from parcours.lib.text import fold

from .models import Consent, Person, Sex

# The oldest birth date accepted (the oldest person ever recorded was born in 1875).
OLDEST_BIRTH_DATE = datetime.date(1875, 1, 1)
# Records merged into records merged into...: a chain longer than this is a bug.
MAX_MERGE_CHAIN = 20

EDITABLE_FIELDS = (
    "birth_name",
    "used_name",
    "first_names",
    "used_first_name",
    "birth_date",
    "sex",
    "birth_place_code",
    "nir",
    "identity_status",
    "phone",
    "phone_2",
    "email",
    "address",
    "postal_code",
    "commune",
    "languages",
    "medecin_traitant_status",
    "medecin_traitant",
    "regime",
    "c2s",
    "ame",
    "mutuelle",
    "ald",
    "lives_alone",
    "housing",
    "resources",
    "children_in_charge",
    "single_parent",
    "social_worker",
    "hospitalised_last_4_years",
)


# --- Matching and duplicates --------------------------------------------------------------------


def _squash(text: str) -> str:
    """Folded, without spaces: 'Le Goff', 'LE-GOFF' and 'Légoff' all give 'legoff'."""
    return fold(text).replace(" ", "")


def first_first_name(first_names: str) -> str:
    """The first of the civil-status first names ('Marie-Claire Anne' → 'Marie-Claire')."""
    parts = (first_names or "").replace(",", " ").split()
    return parts[0] if parts else ""


def person_match_key(
    *, birth_name: str, first_names: str, birth_date: datetime.date | None, sex: str
) -> str:
    """Folded birth name, first first name, birth date and sex: what duplicates share."""
    date = str(birth_date) if birth_date else ""  # ISO 8601 (a date, or its ISO string)
    return "|".join((_squash(birth_name), _squash(first_first_name(first_names)), date, sex or ""))


def _same_sex(one: str, other: str) -> bool:
    return one == other or Sex.UNKNOWN in (one, other) or not one or not other


def _close_identity(candidate: Person, data: dict) -> bool:
    """Same birth date and sex (or one unknown); a name in common, birth and used names
    taken together (so a swap matches); first names equal up to spaces and hyphens, or one
    the start of the other ('Marie Hélène' typed for 'Marie-Hélène Jeanne')."""
    if not data.get("birth_date") or candidate.birth_date != data["birth_date"]:
        return False
    if not _same_sex(candidate.sex, data.get("sex", "")):
        return False
    theirs = {_squash(candidate.birth_name), _squash(candidate.used_name)} - {""}
    ours = {_squash(data.get("birth_name", "")), _squash(data.get("used_name", ""))} - {""}
    if not theirs & ours:
        return False
    a, b = _squash(candidate.first_names), _squash(data.get("first_names", ""))
    return bool(a and b and (a.startswith(b) or b.startswith(a)))


def person_duplicates(
    *, organisation: Organisation, data: dict, exclude: Person | None = None
) -> list[Person]:
    """The organisation's records (merged ones left out) that may be the same person:
    same match key; or the same birth date with birth and used names in common (swapped
    included) and first names alike; or the same NIR."""
    key = person_match_key(
        birth_name=data.get("birth_name", ""),
        first_names=data.get("first_names", ""),
        birth_date=data.get("birth_date"),
        sex=data.get("sex", ""),
    )
    nir = nir_normalise(data.get("nir"))
    wanted = Q(match_key=key)
    if data.get("birth_date"):
        wanted |= Q(birth_date=data["birth_date"])  # close identities, checked below
    if nir:
        wanted |= Q(nir=nir)
    candidates = Person.objects.filter(wanted, organisation=organisation, merged_into=None)
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude.pk)
    return [
        person
        for person in candidates.order_by("birth_name", "first_names", "pk")
        if person.match_key == key or (nir and person.nir == nir) or _close_identity(person, data)
    ]


# --- Identity checks ----------------------------------------------------------------------------


def birth_date_error(birth_date: datetime.date | None) -> str | None:
    if birth_date is None:
        return None
    if birth_date > timezone.localdate():
        return _("La date de naissance ne peut pas être dans le futur.")
    if birth_date < OLDEST_BIRTH_DATE:
        return _("La date de naissance est trop ancienne : vérifiez l'année.")
    return None


def _check_identity(data: dict) -> None:
    """Normalise the NIR in ``data``; raise a French ValidationError per wrong field."""
    errors = {}
    if "nir" in data:
        data["nir"] = nir_normalise(data["nir"])
        if data["nir"] and (message := nir_error(data["nir"])):
            errors["nir"] = message
    if message := birth_date_error(data.get("birth_date")):
        errors["birth_date"] = message
    if errors:
        raise ValidationError(errors)


def _with_match_key(person: Person) -> None:
    person.match_key = person_match_key(
        birth_name=person.birth_name,
        first_names=person.first_names,
        birth_date=person.birth_date,
        sex=person.sex,
    )


# --- Person writes ------------------------------------------------------------------------------


@transaction.atomic
def person_create(
    *, organisation: Organisation, by: User | None, data: dict, request=None
) -> Person:
    data = {name: value for name, value in data.items() if name in EDITABLE_FIELDS}
    _check_identity(data)
    person = Person(organisation=organisation, created_by=by, **data)
    _with_match_key(person)
    person.full_clean()
    person.save()
    audit_log(
        action=Action.CREATE,
        request=request,
        actor=by,
        organisation=organisation,
        obj=person,
        person_id=person.pk,
        details={"fields": sorted(data)},
    )
    return person


@transaction.atomic
def person_update(
    *, person: Person, version: int, by: User | None, data: dict, request=None
) -> Person:
    """Save an edit made on ``version``; refuse it if someone saved another edit meanwhile."""
    if person.merged_into_id:
        raise ValidationError(
            _("Cette fiche a été fusionnée dans une autre : modifiez la fiche conservée.")
        )
    data = {name: value for name, value in data.items() if name in EDITABLE_FIELDS}
    _check_identity(data)
    stored = Person.objects.get(pk=person.pk)  # ``person`` may hold a form's changes already
    changed = sorted(name for name, value in data.items() if getattr(stored, name) != value)
    for name, value in data.items():
        setattr(person, name, value)
    _with_match_key(person)
    person.full_clean()
    values = {name: getattr(person, name) for name in data}
    values.update(match_key=person.match_key, updated_at=timezone.now(), version=F("version") + 1)
    updated = Person.objects.filter(pk=person.pk, version=version, merged_into=None).update(
        **values
    )
    if not updated:
        raise ValidationError(
            _(
                "Cette fiche a été modifiée par quelqu'un d'autre pendant que vous la "
                "modifiiez. Rechargez la page pour voir la version enregistrée, puis refaites "
                "votre modification."
            )
        )
    person.refresh_from_db()
    audit_log(
        action=Action.UPDATE,
        request=request,
        actor=by,
        organisation=person.organisation,
        obj=person,
        person_id=person.pk,
        details={"fields": changed},
    )
    return person


def person_kept_record(person: Person) -> Person:
    """The record ``person`` was merged into (following chains), or ``person`` itself."""
    seen = {person.pk}
    while person.merged_into_id:
        person = Person.objects.get(pk=person.merged_into_id)
        if person.pk in seen or len(seen) > MAX_MERGE_CHAIN:
            raise RuntimeError(f"merge chain loops at person {person.pk}")
        seen.add(person.pk)
    return person


def person_record_ids(person: Person) -> list[int]:
    """``person``'s id and the ids of every record merged into it (directly or not)."""
    ids, frontier = [person.pk], [person.pk]
    while frontier and len(ids) <= MAX_MERGE_CHAIN * 10:
        frontier = list(
            Person.objects.filter(merged_into__in=frontier).values_list("pk", flat=True)
        )
        ids.extend(frontier)
    return ids


@transaction.atomic
def person_merge(*, keep: Person, merged: Person, by: User | None, request=None) -> Person:
    """Merge ``merged`` into ``keep``: the merged record stays, pointing to the kept one.

    Nothing is moved nor deleted: rows of later modules keep pointing at the merged record,
    and selectors follow ``merged_into``; both histories stay readable.
    """
    if keep.pk == merged.pk:
        raise ValidationError(_("Choisissez deux fiches différentes."))
    if keep.organisation_id != merged.organisation_id:
        raise ValidationError(_("Ces deux fiches n'appartiennent pas à la même organisation."))
    locked = {
        p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[keep.pk, merged.pk])
    }
    if locked[keep.pk].merged_into_id:
        raise ValidationError(_("La fiche à conserver a elle-même été fusionnée dans une autre."))
    done = Person.objects.filter(pk=merged.pk, merged_into=None).update(
        merged_into=keep, version=F("version") + 1, updated_at=timezone.now()
    )
    if not done:
        raise ValidationError(_("Cette fiche a déjà été fusionnée dans une autre."))
    Person.objects.filter(pk=keep.pk).update(version=F("version") + 1, updated_at=timezone.now())
    details = {"merge": {"kept": keep.pk, "merged": merged.pk}}
    for person in (keep, merged):
        audit_log(
            action=Action.UPDATE,
            request=request,
            actor=by,
            organisation=keep.organisation,
            obj=person,
            person_id=person.pk,
            details=details,
        )
    keep.refresh_from_db()
    merged.refresh_from_db()
    return keep


# --- Consent ------------------------------------------------------------------------------------

# A scope covers itself and the narrower ones: sharing outside the équipe de soins was agreed
# on top of sharing inside it.
SCOPE_COVERS = {
    Consent.Scope.TEAM: {Consent.Scope.TEAM},
    Consent.Scope.OUTSIDE: {Consent.Scope.TEAM, Consent.Scope.OUTSIDE},
}


def _consent_errors(
    *, purpose: str, scope: str, categories: list, method: str, by, by_name: str, at
) -> dict:
    errors = {}
    if not categories:
        errors["categories"] = _("Choisissez au moins une catégorie de données.")
    elif set(categories) - set(Consent.Category.values):
        errors["categories"] = _("Cette catégorie de données n'existe pas.")
    if by is None and not (by_name or "").strip():
        errors["collected_by_name"] = _("Indiquez qui a recueilli le consentement.")
    if at is not None and at > timezone.now() + datetime.timedelta(minutes=5):
        errors["collected_at"] = _("La date de recueil ne peut pas être dans le futur.")
    return errors


@transaction.atomic
def consent_record(
    *,
    person: Person,
    purpose: str,
    scope: str,
    categories: Iterable[str],
    method: str,
    by: User | None = None,
    by_name: str = "",
    at: datetime.datetime | None = None,
    request=None,
) -> Consent:
    """Record what the person agreed to, who collected it, how and when (default: now)."""
    categories = sorted(set(categories))
    errors = _consent_errors(
        purpose=purpose,
        scope=scope,
        categories=categories,
        method=method,
        by=by,
        by_name=by_name,
        at=at,
    )
    if errors:
        raise ValidationError(errors)
    consent = Consent(
        organisation=person.organisation,
        person=person,
        purpose=purpose,
        scope=scope,
        categories=categories,
        method=method,
        collected_at=at or timezone.now(),
        collected_by=by,
        collected_by_name=(by_name or "").strip(),
    )
    consent.full_clean()
    consent.save()
    audit_log(
        action=Action.CREATE,
        request=request,
        actor=by,
        organisation=person.organisation,
        obj=consent,
        person_id=person.pk,
        details={"purpose": purpose, "scope": scope, "categories": categories},
    )
    return consent


@transaction.atomic
def consent_withdraw(*, consent: Consent, by: User | None, request=None) -> Consent:
    """Withdraw at once: from now on, no selector treats the consent as given."""
    now = timezone.now()
    if Consent.objects.filter(pk=consent.pk, withdrawn_at=None).update(
        withdrawn_at=now, withdrawn_by=by
    ):
        audit_log(
            action=Action.UPDATE,
            request=request,
            actor=by,
            organisation=consent.organisation,
            obj=consent,
            person_id=consent.person_id,
            details={"withdrawn": True},
        )
    consent.refresh_from_db()
    return consent


def consent_covers(
    *, person: Person, purpose: str, scope: str = Consent.Scope.TEAM, categories: Iterable[str] = ()
) -> bool:
    """Whether one consent in force (on this record or one merged into it) is for
    ``purpose``, has a scope covering ``scope`` and includes every wanted category."""
    wanted = set(categories)
    consents = Consent.objects.filter(
        person__in=person_record_ids(person), purpose=purpose, withdrawn_at=None
    )
    return any(
        scope in SCOPE_COVERS.get(consent.scope, set()) and wanted <= set(consent.categories)
        for consent in consents
    )
