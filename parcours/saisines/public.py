"""What the public saisine pages do: record a submission, acknowledge it.

``public_submit`` records the saisine (``services.saisine_create``, idempotent on the
form's submission key) and its attachments in one transaction, so a double submit, even
two racing posts, gives one saisine with its files once. ``public_acknowledge`` sends the
requester the private status link (e-mail, else SMS, in the requester's language), once per
saisine.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django_scopes import scope

from parcours import messaging
from parcours.accounts.models import Organisation, User
from parcours.audit.models import Action
from parcours.audit.services import audit_log

from . import services
from .attachments import attachments_add
from .models import Saisine

logger = logging.getLogger(__name__)

ACKNOWLEDGEMENT_SUBJECT = gettext_lazy("Votre demande a bien été reçue")
SENT_MARK_SECONDS = 24 * 3600


def public_submit(
    *, organisation: Organisation, form, member: User | None = None, request=None
) -> Saisine:
    """Record a valid public form (``ResidentForm`` or ``ProfessionalForm``)."""
    files = form.cleaned_data.get("attachments") or []
    with scope(organisation=organisation), transaction.atomic():
        saisine = services.saisine_create(
            organisation=organisation,
            data=form.saisine_data(),
            by=member,
            submission_key=form.cleaned_data["submission_key"],
            request=request,
        )
        attachments_add(saisine=saisine, files=files, by=member, request=request)
    return saisine


def status_url(saisine: Saisine) -> str:
    """The requester's private status link (absolute)."""
    token = services.saisine_status_token(saisine)
    return settings.SITE_URL + reverse("saisines:status", args=[token])


def public_confirmation(*, organisation: Organisation, saisine_id: int) -> dict:
    """What the confirmation page shows of a saisine just filed: its reference and status
    link, and whether the requester's address is verified (nothing about the person)."""
    with scope(organisation=organisation):
        saisine = Saisine.objects.filter(organisation=organisation, pk=saisine_id).first()
    if saisine is None:
        return {}
    return {
        "reference": saisine.reference,
        "status_url": status_url(saisine),
        "status_days": settings.SAISINE_STATUS_LINK_DAYS,
        "email_sent_to_requester": bool(saisine.requester_email),
        "verified": saisine.requester_email_verified_at is not None,
    }


def status_open(*, token: str, request=None) -> Saisine:
    """The saisine a status link points to (``LinkInvalid`` otherwise); opening is audited."""
    saisine = services.saisine_from_status_token(token)
    audit_log(
        action=Action.LINK_OPENED,
        request=request,
        organisation=saisine.organisation,
        obj=saisine,
        person_id=saisine.person_id,
        details={"link": "status"},
    )
    return saisine


def public_acknowledge(saisine: Saisine) -> str:
    """Send the status link to the requester, once per saisine; the channel used or "".

    A failure of the e-mail or SMS backend is logged (id only) and swallowed: the saisine is
    recorded and the confirmation page shows the link anyway."""
    mark = f"saisines:acknowledged:{saisine.pk}"
    if not cache.add(mark, 1, SENT_MARK_SECONDS):
        return ""
    context = {"status_url": status_url(saisine), "days": settings.SAISINE_STATUS_LINK_DAYS}
    try:
        return messaging.notify_requester(
            saisine, ACKNOWLEDGEMENT_SUBJECT, "saisines/email/public_confirmation", context
        )
    except Exception as error:  # noqa: BLE001 - the saisine is recorded anyway
        cache.delete(mark)
        logger.warning(
            "saisine %s: acknowledgement not sent (%s)", saisine.pk, type(error).__name__
        )
        return ""
