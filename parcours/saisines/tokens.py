"""Signed links of the single entry point (``django.core.signing``, salted, expiring).

- Orientation links: the recipient of an orientation answers without an account. A token
  holds the orientation id and the action the link carries ("accepted", "declined",
  "done"); valid ``ORIENTATION_LINK_DAYS`` days.
- Status links: the requester follows the saisine's status (no personal data shown). A
  token holds the saisine id; valid ``SAISINE_STATUS_LINK_DAYS`` days.

Tokens hold ids only, never personal data. A tampered token and an expired one both raise
``LinkInvalid`` with a French message; ``expired`` tells them apart.
"""

from django.conf import settings
from django.core import signing

from parcours.lib.signed_links import LinkInvalid, load, tampered

__all__ = ["LinkInvalid"]

ORIENTATION_SALT = "parcours.saisines.orientation"
STATUS_SALT = "parcours.saisines.status"

ORIENTATION_ACTIONS = ("accepted", "declined", "done")


def orientation_token(orientation, action: str) -> str:
    """The token of one link of an orientation e-mail."""
    if action not in ORIENTATION_ACTIONS:
        raise ValueError(f"unknown orientation action {action!r}")
    return signing.dumps({"o": orientation.pk, "a": action}, salt=ORIENTATION_SALT)


def orientation_token_read(token: str) -> tuple[int, str]:
    """(orientation id, action) of a valid token; ``LinkInvalid`` otherwise."""
    data = load(token, salt=ORIENTATION_SALT, days=settings.ORIENTATION_LINK_DAYS)
    try:
        orientation_id, action = int(data["o"]), str(data["a"])
    except (KeyError, TypeError, ValueError):
        raise tampered() from None
    if action not in ORIENTATION_ACTIONS:
        raise tampered()
    return orientation_id, action


def status_token(saisine) -> str:
    return signing.dumps({"s": saisine.pk}, salt=STATUS_SALT)


def status_token_read(token: str) -> int:
    """The saisine id of a valid status token; ``LinkInvalid`` otherwise."""
    data = load(token, salt=STATUS_SALT, days=settings.SAISINE_STATUS_LINK_DAYS)
    try:
        return int(data["s"])
    except (KeyError, TypeError, ValueError):
        raise tampered() from None
