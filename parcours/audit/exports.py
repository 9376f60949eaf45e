"""The DPO's CSV export: French headers, `;` separator, UTF-8 with a BOM so Excel opens it."""

import csv
from collections.abc import Iterable, Iterator

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import AuditEvent

BOM = "\ufeff"
# A cell starting with one of these is a formula for a spreadsheet (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write() returns the line, for streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _headers() -> list[str]:
    return [
        _("N°"),
        _("Date"),
        _("Action"),
        _("Utilisateur"),
        _("Type d'objet"),
        _("Identifiant de l'objet"),
        _("Personne concernée"),
        _("Adresse IP"),
        _("Détails"),
        _("Empreinte"),
    ]


def _row(event: AuditEvent) -> list[str]:
    values = [
        event.pk,
        timezone.localtime(event.at).strftime("%d/%m/%Y %H:%M:%S"),
        event.get_action_display(),
        event.actor_display,
        event.object_type,
        event.object_id,
        event.person_id,
        event.ip,
        event.details_display,
        event.hash,
    ]
    return [_cell(value) for value in values]


def audit_events_csv(events: Iterable[AuditEvent]) -> Iterator[str]:
    """The lines of the CSV file, streamed: the first starts with the BOM.

    The lines are produced after the view has returned, so the request's language is
    captured now and reactivated while they are.
    """
    language = translation.get_language()
    writer = csv.writer(_Echo(), delimiter=";")

    def lines() -> Iterator[str]:
        with translation.override(language):
            yield BOM + writer.writerow(_headers())
            for event in events:
                yield writer.writerow(_row(event))

    return lines()
