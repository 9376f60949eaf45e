"""Reads of people: every read of a person's data goes through here and is audited.

A read by id follows ``merged_into`` to the kept record; a read for a purpose is refused
(:class:`ConsentRequired`) when no consent in force covers it.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from parcours.accounts.models import Organisation, User
from parcours.audit.models import Action
from parcours.audit.services import audit_log
from parcours.lib.nir import nir_normalise
from parcours.lib.text import fold

from . import services
from .models import Consent, Person

PAGE_SIZE = 50
_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")


class ConsentRequired(PermissionDenied):
    """The person gave no consent in force covering this purpose, scope and categories."""

    def __init__(self, purpose: str = "", scope: str = "", categories=()):
        self.purpose, self.scope, self.categories = purpose, scope, tuple(categories)
        super().__init__(
            _(
                "La personne n'a pas donné (ou a retiré) son consentement pour cet usage de "
                "ses données : recueillez son consentement avant de continuer."
            )
        )


def _audit_read(*, user, organisation, person: Person, request=None, **details) -> None:
    audit_log(
        action=Action.READ,
        request=request,
        actor=user,
        organisation=organisation,
        obj=person,
        person_id=person.pk,
        details={key: value for key, value in details.items() if value not in (None, "", ())},
    )


def person_get_for_user(
    *,
    user: User | None,
    organisation: Organisation,
    person_id: int,
    purpose: str | None = None,
    scope: str = Consent.Scope.TEAM,
    categories=(),
    request=None,
) -> Person:
    """The person (the kept record if ``person_id`` was merged), read and audited.

    Another organisation's id is 404. With ``purpose``, raise :class:`ConsentRequired`
    unless a consent in force covers it (with ``scope`` and ``categories``).
    """
    try:
        person = Person.objects.get(organisation=organisation, pk=person_id)
    except (Person.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    person = services.person_kept_record(person)
    if purpose and not services.consent_covers(
        person=person, purpose=purpose, scope=scope, categories=categories
    ):
        raise ConsentRequired(purpose, scope, categories)
    _audit_read(
        user=user,
        organisation=organisation,
        person=person,
        request=request,
        requested=person_id if person_id != person.pk else None,
        purpose=purpose,
        scope=scope if purpose else None,
        categories=sorted(categories) if purpose else (),
    )
    return person


@dataclass
class PersonFile:
    """What the person's page shows: the kept record, its consents, the merged records."""

    person: Person
    consents: list[Consent] = field(default_factory=list)
    merged_records: list[Person] = field(default_factory=list)


def person_file(
    *, user: User | None, organisation: Organisation, person_id: int, request=None
) -> PersonFile:
    """The person's page: identity and all; the records merged into it (read and audited
    too, so "who saw this file" answers for each of them)."""
    person = person_get_for_user(
        user=user, organisation=organisation, person_id=person_id, request=request
    )
    ids = services.person_record_ids(person)
    merged = list(Person.objects.filter(organisation=organisation, pk__in=ids[1:]).order_by("pk"))
    for record in merged:
        _audit_read(
            user=user, organisation=organisation, person=record, request=request, kept=person.pk
        )
    consents = list(
        Consent.objects.filter(organisation=organisation, person__in=ids).select_related(
            "collected_by", "withdrawn_by"
        )
    )
    labels = dict(Consent.Category.choices)
    for consent in consents:
        consent.category_labels = [labels.get(value, value) for value in consent.categories]
    return PersonFile(person=person, consents=consents, merged_records=merged)


def consent_get(*, organisation: Organisation, person: Person, consent_id: int) -> Consent:
    """One consent of the person (or of a record merged into it); otherwise 404."""
    try:
        return Consent.objects.get(
            organisation=organisation,
            pk=consent_id,
            person__in=services.person_record_ids(person),
        )
    except (Consent.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _people(organisation: Organisation) -> QuerySet[Person]:
    return Person.objects.filter(organisation=organisation, merged_into=None)


def _search_filter(q: str) -> Q:
    """Every word of ``q`` must match a name; a date matches the birth date, a long number
    the NIR."""
    text = (q or "").strip()
    if date_match := _DATE.match(text):
        day, month, year = (int(part) for part in date_match.groups())
        try:
            return Q(birth_date=datetime.date(year, month, day))
        except ValueError:
            return Q(pk__in=[])
    digits = nir_normalise(text)
    if len(digits) >= 5 and re.fullmatch(r"[0-9]{5}[0-9AB]*", digits):
        return Q(nir__startswith=digits)
    condition = Q()
    for word in text.split()[:6]:
        folded = fold(word).replace(" ", "")
        condition &= (
            Q(match_key__contains=folded)
            | Q(birth_name__icontains=word)
            | Q(used_name__icontains=word)
            | Q(first_names__icontains=word)
            | Q(used_first_name__icontains=word)
        )
    return condition


def person_search(
    *, user: User | None, organisation: Organisation, q: str = "", page=1, request=None
) -> Page:
    """A page of the organisation's people (merged records left out) whose names match
    ``q`` (or all people without ``q``); the ids shown are audited, never the query."""
    people = _people(organisation)
    if (q or "").strip():
        people = people.filter(_search_filter(q))
    people = people.order_by("birth_name", "first_names", "pk")
    result = Paginator(people, PAGE_SIZE).get_page(page)
    audit_log(
        action=Action.READ,
        request=request,
        actor=user,
        organisation=organisation,
        object_type=Person._meta.label_lower,
        details={"list": "search" if q else "all", "ids": [p.pk for p in result.object_list]},
    )
    return result


def person_list(*, user: User | None, organisation: Organisation, page=1, request=None) -> Page:
    return person_search(user=user, organisation=organisation, q="", page=page, request=request)


def person_duplicates_for_user(
    *,
    user: User | None,
    organisation: Organisation,
    data: dict,
    exclude: Person | None = None,
    request=None,
) -> list[Person]:
    """The possible duplicates of ``data`` (shown before creating), each read audited."""
    found = services.person_duplicates(organisation=organisation, data=data, exclude=exclude)
    for person in found:
        _audit_read(
            user=user, organisation=organisation, person=person, request=request, duplicates=True
        )
    return found
