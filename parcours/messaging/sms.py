"""The SMS gateway interface, for people who gave only a phone number.

``send_sms(to, text)`` hands the message to the backend named by ``settings.SMS_BACKEND``
(a dotted path to a class with ``send_messages(messages) -> int``), like Django's e-mail
backends. Two backends ship:

- ``ConsoleBackend`` (the default): logs a masked number and the length, never the text
  nor the full number (logs must hold no personal data);
- ``MemoryBackend`` (tests): appends to ``parcours.messaging.sms.outbox``, like
  ``django.core.mail.outbox``.

A real gateway (an HTTP API of an SMS operator) is one more class with ``send_messages``.
"""

import logging
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

DEFAULT_BACKEND = "parcours.messaging.sms.ConsoleBackend"
MAX_LENGTH = 640  # four concatenated SMS: the gateway refuses longer texts

outbox: list["SmsMessage"] = []


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164, "+33612345678"
    text: str


def normalise_phone(number) -> str:
    """E.164 form of a number (a PhoneNumber or a string; French when it has no prefix)."""
    raw = getattr(number, "as_e164", None) or str(number or "")
    try:
        parsed = phonenumbers.parse(raw, getattr(settings, "PHONENUMBER_DEFAULT_REGION", "FR"))
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(number: str) -> str:
    """ "+33612345678" → "+33******78": enough to tell two numbers apart in a log."""
    number = str(number)
    if len(number) <= 5:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 5) + number[-2:]


class BaseBackend:
    def send_messages(self, messages: list[SmsMessage]) -> int:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Development: say that an SMS would leave, without its content."""

    def send_messages(self, messages: list[SmsMessage]) -> int:
        for message in messages:
            logger.info("SMS to %s (%d characters)", mask_phone(message.to), len(message.text))
        return len(messages)


class MemoryBackend(BaseBackend):
    """Tests: keep the messages in ``outbox``."""

    def send_messages(self, messages: list[SmsMessage]) -> int:
        outbox.extend(messages)
        return len(messages)


def get_sms_backend() -> BaseBackend:
    return import_string(getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND))()


def send_sms(to, text: str) -> int:
    """Send one SMS; ``ValueError`` for an invalid number or an empty or too long text."""
    text = (text or "").strip()
    if not text:
        raise ValueError("empty SMS")
    if len(text) > MAX_LENGTH:
        raise ValueError("SMS too long")
    return get_sms_backend().send_messages([SmsMessage(to=normalise_phone(to), text=text)])
