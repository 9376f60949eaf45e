"""E-mail messages rendered from templates in the recipient's language."""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import translation


def send_email(
    to: str | Iterable[str],
    subject,
    template_base: str,
    context: dict,
    language: str = "fr",
    *,
    reply_to: Iterable[str] = (),
    from_email: str | None = None,
) -> None:
    """Send one message rendered from ``<template_base>.txt`` (and ``.html`` when it exists).

    Rendering and the subject happen under ``translation.override(language)``, so lazy
    translations and ``{% translate %}`` come out in the recipient's language. Errors of
    the e-mail backend propagate: the caller decides whether a failure is fatal.
    """
    recipients = [to] if isinstance(to, str) else list(to)
    with translation.override(language or settings.LANGUAGE_CODE):
        context = {**context, "language": translation.get_language()}
        body = render_to_string(f"{template_base}.txt", context)
        try:
            html = render_to_string(f"{template_base}.html", context)
        except TemplateDoesNotExist:
            html = None
        message = EmailMultiAlternatives(
            subject=" ".join(str(subject).split()),  # one line: no header injection
            body=body,
            from_email=from_email or settings.DEFAULT_FROM_EMAIL,
            to=recipients,
            reply_to=[address for address in reply_to if address],
        )
    if html is not None:
        message.attach_alternative(html, "text/html")
    message.send()
