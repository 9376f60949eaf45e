"""Reads of the team's pages: the coordinator's work queue, delays as text, resources.

- ``queue_counts(*, organisation, user, filters, now=None) -> dict``: how many saisines
  each tab of the queue holds (one query), under the urgency / origin / bulletin filters.
- ``queue_page(*, organisation, user, tab, filters, page=1, now=None) -> Page``: one page
  of a tab; each item a ``QueueRow`` (the saisine, its delays, its badges). A constant
  number of queries, whatever the number of saisines (no N+1).
- The tab "overdue" uses the overdue flags of ``selectors.saisine_delays`` as a database
  condition (``overdue_condition``): a measured delay beyond its target, or a milestone
  still missing past it, on an open saisine.
- ``delay_lines(saisine, delays)`` and ``duration_label(delta)``: the delays as French text.
- ``resource_search`` / ``resource_get``: the directory resources an orientation can go to
  (a Service of the organisation, a Structure, a Professional), as "kind:id" values.

The queue shows no personal data and no health text: reference, dates, origin, urgency,
bulletin, status, delays, who follows it.
"""

import datetime
import re
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_scopes import scope

from parcours.directory.models import Professional, SearchEntry, Service, Structure
from parcours.directory.search import SearchQuery, directory_search

from .models import Attachment, Orientation, Origin, Saisine, Status, Urgency
from .selectors import MILESTONES, delay_targets, orientations_flagged, saisine_delays

PAGE_SIZE = 50
FINAL = (Status.CLOSED, Status.DECLINED)
RESIDENT_ORIGINS = (Origin.RESIDENT, Origin.RELATIVE)

# The queue's tabs, in the order shown.
TABS = (
    ("new", gettext_lazy("Nouvelles")),
    ("overdue", gettext_lazy("En retard")),
    ("mine", gettext_lazy("Les miennes")),
    ("waiting", gettext_lazy("En attente de réponse")),
    ("flagged", gettext_lazy("Orientations sans réponse")),
    ("open", gettext_lazy("Toutes les ouvertes")),
    ("closed", gettext_lazy("Terminées")),
)
TAB_CODES = tuple(code for code, _label in TABS)
DEFAULT_TAB = "open"
FILTERS = ("urgency", "origin", "bulletin")

URGENCY_RANK = Case(
    When(urgency=Urgency.VERY_URGENT, then=Value(0)),
    When(urgency=Urgency.URGENT, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


# --- Delays --------------------------------------------------------------------------------


def overdue_condition(now: datetime.datetime) -> Q:
    """``saisine_delays(...)["any_overdue"]`` as a condition on saisines."""
    targets = delay_targets()
    condition = Q(pk__in=[])
    for name, field in MILESTONES:
        target = targets[name]
        condition |= Q(**{f"{field}__gt": F("received_at") + target})
        condition |= Q(**{f"{field}__isnull": True, "received_at__lt": now - target}) & ~Q(
            status__in=FINAL
        )
    return condition


def duration_label(delta: datetime.timedelta | None) -> str:
    """A delay in French, to the minute below an hour, else days and hours: "3 j 4 h"."""
    if delta is None:
        return ""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 1:
        return _("moins d'une minute")
    if minutes < 60:
        return _("%(minutes)s min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(hours)s h %(minutes)02d") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    if hours:
        return _("%(days)s j %(hours)s h") % {"days": days, "hours": hours}
    return ngettext("%(days)s jour", "%(days)s jours", days) % {"days": days}


MILESTONE_LABELS = {
    "first_response": gettext_lazy("Première réponse"),
    "decision": gettext_lazy("Décision"),
    "closure": gettext_lazy("Clôture"),
}


def delay_lines(saisine: Saisine, delays: dict) -> list[dict]:
    """Each milestone: its label, the delay measured (or "" while pending), the target,
    and whether it is overdue."""
    lines = []
    for name, _field in MILESTONES:
        measured = delays[name]
        lines.append(
            {
                "name": name,
                "label": str(MILESTONE_LABELS[name]),
                "value": duration_label(measured),
                "pending": measured is None,
                "stopped": measured is None and saisine.status in FINAL,
                "target": duration_label(delays["targets"][name]),
                "overdue": delays["overdue"][name],
            }
        )
    return lines


# --- The queue -----------------------------------------------------------------------------


def requester_email_unverified(saisine: Saisine) -> bool:
    """A professional's saisine from the public page whose e-mail is not confirmed yet."""
    return (
        saisine.channel == "web"
        and saisine.origin not in RESIDENT_ORIGINS
        and saisine.requester_user_id is None
        and bool(saisine.requester_email)
        and saisine.requester_email_verified_at is None
    )


@dataclass
class QueueRow:
    saisine: Saisine
    delays: dict
    lines: list[dict]
    unverified_email: bool
    waiting: bool
    flagged: bool


def _annotated(organisation, filters: dict):
    waiting = Orientation.objects.filter(saisine=OuterRef("pk"), status=Orientation.Status.SENT)
    flagged = orientations_flagged(organisation=organisation).filter(saisine=OuterRef("pk"))
    saisines = Saisine.objects.filter(organisation=organisation)
    for name in FILTERS:
        if filters.get(name):
            saisines = saisines.filter(**{name: filters[name]})
    return saisines.annotate(has_waiting=Exists(waiting), has_flagged=Exists(flagged))


def _tab_conditions(user, now: datetime.datetime) -> dict[str, Q]:
    open_ = ~Q(status__in=FINAL)
    return {
        "new": Q(status=Status.RECEIVED),
        "overdue": open_ & overdue_condition(now),
        "mine": open_ & Q(assigned_to=user),
        "waiting": open_ & Q(has_waiting=True),
        "flagged": open_ & Q(has_flagged=True),
        "open": open_,
        "closed": Q(status__in=FINAL),
    }


def queue_counts(*, organisation, user, filters: dict, now=None) -> dict[str, int]:
    """How many saisines each tab holds, under the filters (one query)."""
    now = now or timezone.now()
    conditions = _tab_conditions(user, now)
    with scope(organisation=organisation):
        return _annotated(organisation, filters).aggregate(
            **{code: Count("pk", filter=condition) for code, condition in conditions.items()}
        )


def queue_page(
    *, organisation, user, tab: str, filters: dict, page=1, now=None, page_size=PAGE_SIZE
) -> Page:
    """One page of the tab: QueueRow items, most urgent then oldest first (the last
    closed first in "closed")."""
    now = now or timezone.now()
    tab = tab if tab in TAB_CODES else DEFAULT_TAB
    if tab == "closed":
        order = (F("closed_at").desc(nulls_last=True), "-id")
    else:
        order = (URGENCY_RANK, "received_at", "id")
    with scope(organisation=organisation):
        saisines = (
            _annotated(organisation, filters)
            .filter(_tab_conditions(user, now)[tab])
            .select_related("assigned_to")
            .order_by(*order)
        )
        result = Paginator(saisines, page_size).get_page(page)
        result.object_list = [_row(saisine, now) for saisine in result.object_list]
    return result


def _row(saisine: Saisine, now: datetime.datetime) -> QueueRow:
    delays = saisine_delays(saisine, now=now)
    return QueueRow(
        saisine=saisine,
        delays=delays,
        lines=delay_lines(saisine, delays),
        unverified_email=requester_email_unverified(saisine),
        waiting=saisine.has_waiting,
        flagged=saisine.has_flagged,
    )


# --- One saisine's parts ------------------------------------------------------------------


def saisine_attachments(saisine: Saisine) -> list[Attachment]:
    with scope(organisation=saisine.organisation):
        return list(Attachment.objects.filter(saisine=saisine).order_by("uploaded_at", "id"))


def orientation_get(*, organisation, orientation_id: int) -> Orientation:
    """One orientation of the organisation (another organisation's answers 404)."""
    with scope(organisation=organisation):
        orientation = (
            Orientation.objects.select_related("saisine__organisation")
            .filter(organisation=organisation, pk=orientation_id)
            .first()
        )
    if orientation is None:
        raise Http404
    return orientation


# The line the public forms and the quick entry write: "Personne : Amina HADDAD, née ou né
# le 23/09/1961" (see public_forms._person_line), and "Sexe : Femme".
PERSON_LINE = re.compile(
    r"^Personne\s*:\s*(?P<name>[^,\n]+?)(?:,\s*née ou né le\s*"
    r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4}))?\s*$",
    re.MULTILINE,
)
SEX_LINE = re.compile(r"^Sexe\s*:\s*(?P<sex>Femme|Homme)\s*$", re.MULTILINE)


def identity_from_description(text: str) -> dict:
    """A first guess of the identity fields from a saisine's description, to prefill the
    triage's identity form: words in capitals are the birth name, the others the first
    names (without capitals, the last word is taken as the name). {} when none."""
    found = PERSON_LINE.search(text or "")
    if found is None or "anonyme" in found["name"]:
        return {}
    words = found["name"].split()
    upper = [word for word in words if word.isupper()]
    if upper:
        birth_name, first_names = upper, [word for word in words if not word.isupper()]
    else:
        birth_name, first_names = words[-1:], words[:-1]
    identity = {"birth_name": " ".join(birth_name), "first_names": " ".join(first_names)}
    if found["year"]:
        try:
            identity["birth_date"] = datetime.date(
                int(found["year"]), int(found["month"]), int(found["day"])
            )
        except ValueError:
            pass
    if sex := SEX_LINE.search(text or ""):
        identity["sex"] = "F" if sex["sex"] == "Femme" else "M"
    return identity


# --- Resources an orientation can go to ----------------------------------------------------

RESOURCE_KINDS = {
    SearchEntry.Kind.SERVICE: Service,
    SearchEntry.Kind.STRUCTURE: Structure,
    SearchEntry.Kind.PROFESSIONAL: Professional,
}
RESOURCE_RESULTS = 10


def resource_value(resource) -> str:
    kind = {Service: "service", Structure: "structure", Professional: "professional"}
    return f"{kind[type(resource)]}:{resource.pk}"


def resource_label(resource) -> str:
    if isinstance(resource, Professional):
        return " ".join(filter(None, [resource.civility, resource.first_name, resource.last_name]))
    return resource.name


def resource_search(*, organisation, q: str, kind: str = "") -> list[dict]:
    """Directory entries matching ``q`` that an orientation can go to: {"value", "title",
    "subtitle", "kind_label", "commune"}; a professional once, whatever his practices."""
    q = (q or "").strip()[:200]
    if not q:
        return []
    kind = kind if kind in RESOURCE_KINDS else ""
    result = directory_search(
        query=SearchQuery(q=q, kind=kind), organisation=organisation, page_size=RESOURCE_RESULTS
    )
    found, seen = [], set()
    for entry in result.page.object_list:
        if entry.kind == SearchEntry.Kind.PROFESSIONAL:
            value = f"professional:{entry.professional_id}"
        else:
            value = f"{entry.kind}:{entry.ref_id}"
        if value in seen:
            continue
        seen.add(value)
        found.append(
            {
                "value": value,
                "title": entry.title,
                "subtitle": entry.subtitle,
                "kind_label": str(SearchEntry.Kind(entry.kind).label),
                "commune": entry.commune.name if entry.commune else "",
            }
        )
    return found


def resource_get(*, organisation, value: str):
    """The active resource a "kind:id" value names (a Service of ``organisation`` only),
    or None."""
    kind, _sep, ident = (value or "").partition(":")
    model = RESOURCE_KINDS.get(kind)
    if model is None or not ident.isdigit():
        return None
    with scope(organisation=organisation):
        found = model.objects.filter(pk=int(ident), is_active=True)
        if model is Service:
            found = found.filter(organisation=organisation)
        return found.first()


def resources_chosen(*, organisation, values) -> list[dict]:
    """The resources already ticked (kept across searches): the same shape as a search."""
    chosen = []
    for value in dict.fromkeys(values):
        resource = resource_get(organisation=organisation, value=value)
        if resource is not None:
            chosen.append(
                {
                    "value": value,
                    "title": resource_label(resource),
                    "subtitle": "",
                    "kind_label": str(
                        SearchEntry.Kind(value.partition(":")[0]).label  # type: ignore[arg-type]
                    ),
                    "commune": "",
                    "checked": True,
                }
            )
    return chosen
