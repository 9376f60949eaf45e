"""Signed, expiring links sent by e-mail (``django.core.signing``, salted per purpose).

A token holds ids and the action a link carries, never personal data. ``load`` raises
``LinkInvalid`` with a French message for a tampered token and for an expired one
(``expired`` set, with the authentic payload so the page can say whom to contact).
"""

from datetime import timedelta

from django.core import signing
from django.utils.translation import gettext as _


class LinkInvalid(Exception):
    """A signed link that cannot be used: tampered, incomplete, or expired."""

    def __init__(self, message: str, *, expired: bool = False, payload: dict | None = None):
        super().__init__(message)
        self.message = message
        self.expired = expired
        self.payload = payload or {}  # an expired token's (authentic) content, if any

    def __str__(self) -> str:
        return self.message


def tampered() -> LinkInvalid:
    return LinkInvalid(
        _(
            "Ce lien n'est pas valide : il est incomplet ou a été modifié. Utilisez le lien "
            "exact reçu par e-mail ou par SMS."
        )
    )


def dump(data: dict, *, salt: str) -> str:
    return signing.dumps(data, salt=salt)


def load(token: str, *, salt: str, days: int) -> dict:
    """The payload of a valid token signed with ``salt`` at most ``days`` days ago."""
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
        raise tampered() from None
    if not isinstance(data, dict):
        raise tampered()
    return data
