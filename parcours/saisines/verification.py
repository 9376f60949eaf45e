"""E-mail verification of professionals who file a saisine from the public page.

The design, and why: the saisine is created at once, status "received", with
``requester_email_verified_at`` empty, and a signed link is sent to the address given. The
coordinator's queue shows unverified saisines as such (the requester's identity is
unconfirmed) instead of not seeing them at all: a request about a person in difficulty must
not wait for a professional to open an e-mail, nor vanish because the message went to spam.
Opening the link shows a confirmation page (mail scanners open links before people do);
its button (POST) sets ``requester_email_verified_at``, once.

Tokens (``django.core.signing``, salted) hold the saisine id and a digest of the address,
so a link stops working if the address is corrected; they expire after
``SAISINE_EMAIL_VERIFICATION_HOURS``. No personal data in the URL, subject or logs.
"""

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scope, scopes_disabled

from parcours import messaging
from parcours.audit.models import Action
from parcours.audit.services import audit_log

from .models import Saisine
from .public import status_url

logger = logging.getLogger(__name__)

VERIFICATION_SALT = "parcours.saisines.email-verification"
SUBJECT = gettext_lazy("Confirmez votre adresse e-mail")
SENT_MARK_SECONDS = 24 * 3600


def _digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


def verification_token(saisine: Saisine) -> str:
    return signing.dumps(
        {"s": saisine.pk, "e": _digest(saisine.requester_email)}, salt=VERIFICATION_SALT
    )


def verification_url(saisine: Saisine) -> str:
    return settings.SITE_URL + reverse("saisines:verify-email", args=[verification_token(saisine)])


def verification_send(saisine: Saisine) -> bool:
    """E-mail the link to the requester, once per saisine (a double submit sends one).

    A failure of the e-mail backend is logged (id only) and swallowed: the saisine is
    recorded whatever happens to the message."""
    if not saisine.requester_email or saisine.requester_email_verified_at:
        return False
    mark = f"saisines:verification-sent:{saisine.pk}"
    if not cache.add(mark, 1, SENT_MARK_SECONDS):
        return False
    context = {
        "saisine": saisine,
        "organisation": saisine.organisation,
        "url": verification_url(saisine),
        "hours": settings.SAISINE_EMAIL_VERIFICATION_HOURS,
        "status_url": status_url(saisine),
        "days": settings.SAISINE_STATUS_LINK_DAYS,
    }
    try:
        messaging.send_email(
            to=saisine.requester_email,
            subject=SUBJECT,
            template_base="saisines/email/public_verification",
            context=context,
            language=saisine.language,
        )
    except Exception as error:  # noqa: BLE001 - the saisine is recorded anyway
        cache.delete(mark)
        logger.warning(
            "saisine %s: verification e-mail not sent (%s)", saisine.pk, type(error).__name__
        )
        return False
    return True


INVALID = gettext_lazy(
    "Ce lien n'est pas valide : il est incomplet ou a été modifié. Utilisez le lien exact "
    "reçu par e-mail."
)


def verification_open(*, token: str, request=None, audit: bool = True) -> Saisine:
    """The saisine a verification link names; ``ValidationError`` (translated) if unusable.

    Opening is audited (``audit=False`` for the POST that follows the page)."""
    max_age = timedelta(hours=settings.SAISINE_EMAIL_VERIFICATION_HOURS)
    try:
        data = signing.loads(token, salt=VERIFICATION_SALT, max_age=max_age)
        saisine_id, digest = int(data["s"]), str(data["e"])
    except signing.SignatureExpired:
        raise ValidationError(
            _(
                "Ce lien a expiré (il était valable %(hours)s heures). Votre demande a bien été "
                "reçue : l'équipe vous recontactera pour confirmer votre adresse."
            )
            % {"hours": settings.SAISINE_EMAIL_VERIFICATION_HOURS},
            code="expired",
        ) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationError(INVALID, code="invalid") from None
    with scopes_disabled():
        saisine = Saisine.objects.select_related("organisation").filter(pk=saisine_id).first()
    if saisine is None or _digest(saisine.requester_email) != digest:
        raise ValidationError(INVALID, code="invalid")
    if audit:
        audit_log(
            action=Action.LINK_OPENED,
            request=request,
            organisation=saisine.organisation,
            obj=saisine,
            person_id=saisine.person_id,
            details={"link": "email_verification"},
        )
    return saisine


def requester_email_verify(*, saisine: Saisine, request=None) -> bool:
    """Record that the requester confirmed the address; True if done now, False if it was
    already. A conditional update: two clicks record it once."""
    now = timezone.now()
    with scope(organisation=saisine.organisation):
        done = Saisine.objects.filter(
            pk=saisine.pk, requester_email_verified_at__isnull=True
        ).update(requester_email_verified_at=now, version=F("version") + 1)
        if done:
            audit_log(
                action=Action.UPDATE,
                request=request,
                organisation=saisine.organisation,
                obj=saisine,
                person_id=saisine.person_id,
                details={"requester_email_verified": True},
            )
        saisine.refresh_from_db()
    return bool(done)
