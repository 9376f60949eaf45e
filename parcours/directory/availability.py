"""A GP's availability declaration: does he take new patients, how many, which ages.

One ``Availability`` per GP and organisation, written by ``availability_declare`` whoever
declares it: the GP from his own page (source ``Source.PROFESSIONAL``, ``by`` his account)
or his answer to the organisation's survey (``Source.SURVEY``, see ``survey.py``). It is
declared today and expires ``validity_months`` later (the caller says how long: the
survey's setting, or ``MATCHING_DECLARATION_MONTHS`` for the GP's own declaration). The
médecin traitant search (``parcours.matching.ranking.pool``) draws its GPs from the
declarations still valid with places left.

Idempotent: the same declaration again on the same day changes nothing and writes no
audit event; anything else replaces the declaration (audited as an update).
"""

import calendar
import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scope

from parcours.accounts.models import Organisation, User
from parcours.audit.models import Action
from parcours.audit.services import audit_log

from .models import Availability, Professional

AGE_GROUPS = (
    ("children", gettext_lazy("Enfants (moins de 16 ans)")),
    ("adults", gettext_lazy("Adultes")),
    ("seniors", gettext_lazy("Personnes âgées (70 ans et plus)")),
)
MAX_CAPACITY = 5000
MAX_VALIDITY_MONTHS = 36

Accepting = Availability.Accepting


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last_day))


def _cleaned(
    *, accepting: str, capacity: int | None, age_groups, home_visits: bool, validity_months: int
) -> dict:
    """The declaration's values, checked (French messages); "no" keeps no detail."""
    if accepting not in Accepting.values:
        raise ValidationError(_("Choisissez une réponse."))
    if accepting == Accepting.NO:
        capacity, age_groups, home_visits = None, [], False
    if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        raise ValidationError(_("Le nombre de patients va de 1 à %(max)s.") % {"max": MAX_CAPACITY})
    known = [value for value, _label in AGE_GROUPS]
    if any(group not in known for group in age_groups):
        raise ValidationError(_("Tranche d'âge inconnue."))
    if not 1 <= validity_months <= MAX_VALIDITY_MONTHS:
        raise ValidationError(
            _("La validité d'une déclaration va de 1 à %(max)s mois.")
            % {"max": MAX_VALIDITY_MONTHS}
        )
    today = timezone.localdate()
    return {
        "accepting": accepting,
        "capacity": capacity,
        "age_groups": [group for group in known if group in age_groups],
        "home_visits": bool(home_visits),
        "declared_on": today,
        "expires_on": add_months(today, validity_months),
    }


def availability_record(
    *,
    organisation: Organisation,
    professional: Professional | int,
    accepting: str,
    capacity: int | None = None,
    age_groups=(),
    home_visits: bool = False,
    validity_months: int,
    source: str,
    by: User | None = None,
    request=None,
    audit_details: dict | None = None,
) -> tuple[Availability, bool]:
    """``availability_declare``, and whether anything changed (the survey marks its
    request answered again only then). ``audit_details`` are added to the audit event."""
    values = _cleaned(
        accepting=accepting,
        capacity=capacity,
        age_groups=age_groups,
        home_visits=home_visits,
        validity_months=validity_months,
    )
    values.update(declared_by=by, source=source)
    professional_id = getattr(professional, "pk", professional)
    with scope(organisation=organisation), transaction.atomic():
        # One declaration per GP and organisation: two first declarations at once (a
        # double click) wait for each other on the professional's row.
        Professional.objects.select_for_update().filter(pk=professional_id).first()
        availability = Availability.objects.filter(
            organisation=organisation, professional_id=professional_id
        ).first()
        if availability is not None and all(
            getattr(availability, name) == value for name, value in values.items()
        ):
            return availability, False
        created = availability is None
        if created:
            availability = Availability(organisation=organisation, professional_id=professional_id)
        for name, value in values.items():
            setattr(availability, name, value)
        availability.full_clean()
        availability.save()
        audit_log(
            action=Action.CREATE if created else Action.UPDATE,
            request=request,
            actor=by,
            organisation=organisation,
            obj=availability,
            details={
                **(audit_details or {}),
                "accepting": availability.accepting,
                "capacity": availability.capacity,
                "expires_on": availability.expires_on.isoformat(),
            },
        )
    return availability, True


def availability_declare(
    *,
    organisation: Organisation,
    professional: Professional | int,
    accepting: str,
    capacity: int | None = None,
    age_groups=(),
    home_visits: bool = False,
    validity_months: int,
    source: str,
    by: User | None = None,
    request=None,
) -> Availability:
    """Record the GP's declaration with the organisation, declared today and valid
    ``validity_months`` months; create it or replace the previous one, audited.

    Raises ValidationError (French message) for an unknown answer or age group, a number
    of patients outside 1–``MAX_CAPACITY``, or a validity outside 1–``MAX_VALIDITY_MONTHS``
    months. Answering "no" keeps no number, age group or home visits.
    """
    availability, _changed = availability_record(
        organisation=organisation,
        professional=professional,
        accepting=accepting,
        capacity=capacity,
        age_groups=age_groups,
        home_visits=home_visits,
        validity_months=validity_months,
        source=source,
        by=by,
        request=request,
    )
    return availability
