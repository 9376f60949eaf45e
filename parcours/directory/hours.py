"""Opening hours as coordinators type them, and back.

    lundi 09:00-12:00, 14:00-17:00
    mardi au vendredi 9h-12h
    samedi 9h30-12h

becomes ``[{"day": 1, "opens": "09:00", "closes": "12:00"}, …]`` (day 1 = Monday).
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
_TIME = r"(\d{1,2})(?:[:h](\d{2})?)?"
_RANGE = re.compile(rf"^{_TIME}\s*-\s*{_TIME}$")
_LINE = re.compile(r"^(?P<first>[a-z]+)(?:\s+(?:au|à|-)\s+(?P<last>[a-z]+))?\s+(?P<ranges>.+)$")


def _time(hours: str, minutes: str | None, line: int) -> str:
    h, m = int(hours), int(minutes or 0)
    if h > 24 or m > 59:
        raise ValidationError(_("Ligne %(line)s : heure invalide.") % {"line": line})
    return f"{h:02d}:{m:02d}"


def _day(name: str, line: int) -> int:
    if name not in DAYS:
        raise ValidationError(
            _("Ligne %(line)s : jour inconnu « %(day)s ».") % {"line": line, "day": name}
        )
    return DAYS.index(name) + 1


def parse_opening_hours(text: str) -> list[dict]:
    """Parse one line per day or day range; raise ValidationError naming the bad line."""
    slots = []
    for number, raw in enumerate(text.strip().splitlines(), start=1):
        line = raw.strip().lower()
        if not line:
            continue
        match = _LINE.match(line)
        if not match:
            raise ValidationError(
                _("Ligne %(line)s : écrivez par exemple « lundi 09:00-12:00, 14:00-17:00 ».")
                % {"line": number}
            )
        first = _day(match["first"], number)
        last = _day(match["last"], number) if match["last"] else first
        for part in match["ranges"].split(","):
            found = _RANGE.match(part.strip())
            if not found:
                raise ValidationError(
                    _("Ligne %(line)s : horaire invalide « %(part)s ».")
                    % {"line": number, "part": part.strip()}
                )
            opens, closes = _time(*found.groups()[:2], number), _time(*found.groups()[2:], number)
            if opens >= closes:
                raise ValidationError(
                    _("Ligne %(line)s : l'heure de fermeture doit suivre l'ouverture.")
                    % {"line": number}
                )
            for day in range(first, last + 1):
                slots.append({"day": day, "opens": opens, "closes": closes})
    return sorted(slots, key=lambda s: (s["day"], s["opens"]))


def format_opening_hours(slots: list[dict]) -> str:
    """The text form, one line per day, that parse_opening_hours reads back."""
    by_day: dict[int, list[str]] = {}
    for slot in sorted(slots, key=lambda s: (s["day"], s["opens"])):
        by_day.setdefault(slot["day"], []).append(f"{slot['opens']}-{slot['closes']}")
    return "\n".join(
        f"{DAYS[day - 1]} {', '.join(ranges)}" for day, ranges in sorted(by_day.items())
    )
