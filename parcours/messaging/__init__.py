"""Notifications: e-mail (Django's e-mail backends) and an SMS gateway interface.

No models here. ``send_email`` renders a text and an HTML template in the recipient's
language; ``send_sms`` hands a text to the backend named by ``settings.SMS_BACKEND``;
``notify_requester`` picks the channel a saisine's requester gave (e-mail, else SMS).

Nothing here logs an address, a number or a message: callers log ids only.
"""

from .email import send_email
from .sms import SmsMessage, get_sms_backend, mask_phone, send_sms

__all__ = [
    "SmsMessage",
    "get_sms_backend",
    "mask_phone",
    "notify_requester",
    "send_email",
    "send_sms",
]


def notify_requester(saisine, subject, template_base: str, context: dict) -> str:
    """Tell a saisine's requester something, in the language of the saisine.

    E-mail when the requester gave one (``requester_email``, else the account's address),
    with ``<template_base>.txt`` and ``<template_base>.html``; otherwise an SMS to
    ``requester_phone`` with ``<template_base>_sms.txt``. ``subject`` should be a lazy
    translation (it is evaluated in the requester's language). Returns the channel used,
    "email" or "sms", or "" when the requester left no way to be reached.
    """
    from django.template.loader import render_to_string
    from django.utils import translation

    language = saisine.language or "fr"
    context = {"saisine": saisine, "organisation": saisine.organisation, **context}
    email = saisine.requester_email
    if not email and saisine.requester_user_id:
        email = saisine.requester_user.email
    if email:
        send_email(
            to=email,
            subject=subject,
            template_base=template_base,
            context=context,
            language=language,
        )
        return "email"
    if saisine.requester_phone:
        with translation.override(language):
            text = render_to_string(f"{template_base}_sms.txt", context).strip()
        send_sms(to=saisine.requester_phone, text=text)
        return "sms"
    return ""
