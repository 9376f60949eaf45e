"""Signed links of the single entry point (``django.core.signing``, salted, expiring).

- Orientation links: the recipient of an orientation answers without an account. A token
  holds the orientation id and the action the link carries ("accepted", "declined",
  "done"); valid ``ORIENTATION_LINK_DAYS`` days.
- Status links: the requester follows the saisine's status (no personal data shown). A
  token holds the saisine id; valid ``SAISINE_STATUS_LINK_DAYS`` days.

Tokens hold ids only, never personal data. A tampered token and an expired one both raise
``LinkInvalid`` with a French message; ``expired`` tells them apart.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

ORIENTATION_SALT = "parcours.saisines.orientation"
STATUS_SALT = "parcours.saisines.status"

ORIENTATION_ACTIONS = ("accepted", "declined", "done")


class LinkInvalid(Exception):
    """A signed link that cannot be used: tampered, incomplete, or expired."""

    def __init__(self, message: str, *, expired: bool = False, payload: dict | None = None):
        super().__init__(message)
        self.message = message
        self.expired = expired
        self.payload = payload or {}  # an expired token's (authentic) content, if any

    def __str__(self) -> str:
        return self.message


def _tampered() -> LinkInvalid:
    return LinkInvalid(
        _(
            "Ce lien n'est pas valide : il est incomplet ou a été modifié. Utilisez le lien "
            "exact reçu par e-mail ou par SMS."
        )
    )


def _load(token: str, *, salt: str, days: int) -> dict:
    try:
        data = signing.loads(token, salt=salt, max_age=timedelta(days=days))
    except signing.SignatureExpired:
        try:  # authentic but too old: its content may still name who to contact
            payload = signing.loads(token, salt=salt)
        except signing.BadSignature:
            payload = {}
        raise LinkInvalid(
            _("Ce lien a expiré : il était valable %(days)s jours.") % {"days": days},
            expired=True,
            payload=payload if isinstance(payload, dict) else {},
        ) from None
    except signing.BadSignature:
        raise _tampered() from None
    if not isinstance(data, dict):
        raise _tampered()
    return data


def orientation_token(orientation, action: str) -> str:
    """The token of one link of an orientation e-mail."""
    if action not in ORIENTATION_ACTIONS:
        raise ValueError(f"unknown orientation action {action!r}")
    return signing.dumps({"o": orientation.pk, "a": action}, salt=ORIENTATION_SALT)


def orientation_token_read(token: str) -> tuple[int, str]:
    """(orientation id, action) of a valid token; ``LinkInvalid`` otherwise."""
    data = _load(token, salt=ORIENTATION_SALT, days=settings.ORIENTATION_LINK_DAYS)
    try:
        orientation_id, action = int(data["o"]), str(data["a"])
    except (KeyError, TypeError, ValueError):
        raise _tampered() from None
    if action not in ORIENTATION_ACTIONS:
        raise _tampered()
    return orientation_id, action


def status_token(saisine) -> str:
    return signing.dumps({"s": saisine.pk}, salt=STATUS_SALT)


def status_token_read(token: str) -> int:
    """The saisine id of a valid status token; ``LinkInvalid`` otherwise."""
    data = _load(token, salt=STATUS_SALT, days=settings.SAISINE_STATUS_LINK_DAYS)
    try:
        return int(data["s"])
    except (KeyError, TypeError, ValueError):
        raise _tampered() from None
