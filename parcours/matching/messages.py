"""The messages of the médecin traitant search.

A solicitation is anonymous: it carries the age band, the sex, the commune and the kind of
follow-up needed (``anonymous_facts``), never the name, birth date, NIR, address or phone
of the person; ``tests/test_anonymity.py`` reads every message sent and fails if one of
them appears. Sending failures are logged by id only and never undo what caused them.
"""

import logging

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parcours.messaging import send_email
from parcours.people.models import Sex

from .models import FollowUp, MTSearch, Solicitation

logger = logging.getLogger(__name__)


def age_band(age: int | None) -> str:
    if age is None:
        return _("âge non précisé")
    if age < 16:
        return _("moins de 16 ans")
    if age < 20:
        return _("16 à 19 ans")
    if age >= 80:
        return _("80 ans et plus")
    low = age // 10 * 10
    return _("%(low)s à %(high)s ans") % {"low": low, "high": low + 9}


SEX_WORDS = {
    Sex.FEMALE: gettext_lazy("une femme"),
    Sex.MALE: gettext_lazy("un homme"),
}


def anonymous_facts(search: MTSearch, person) -> dict:
    """All that a solicitation says of the person."""
    from .services import person_age

    return {
        "age_band": age_band(person_age(person)),
        "sex": str(SEX_WORDS.get(person.sex, _("une personne"))),
        "commune": person.commune.name if person.commune_id else "",
        "follow_up": str(FollowUp(search.follow_up).label),
    }


def _greeting(professional) -> str:
    return " ".join(filter(None, [professional.civility, professional.last_name]))


def _send(to: str, subject, template: str, context: dict, what: str, pk: int) -> bool:
    try:
        send_email(to=to, subject=subject, template_base=template, context=context)
    except Exception as error:  # the class only: SMTP errors quote addresses
        logger.warning("%s %s: message not sent (%s)", what, pk, type(error).__name__)
        return False
    return True


def send_solicitation(solicitation: Solicitation, *, search: MTSearch, person) -> bool:
    from .services import link_url

    context = {
        "organisation": search.organisation,
        "greeting": _greeting(solicitation.professional),
        "facts": anonymous_facts(search, person),
        "number": solicitation.pk,
        "accept_url": link_url(solicitation, "accept"),
        "decline_url": link_url(solicitation, "decline"),
        "link_days": settings.MATCHING_LINK_DAYS,
    }
    subject = gettext_lazy("Pourriez-vous accueillir un nouveau patient ? (demande n° %(n)s)")
    return _send(
        solicitation.email,
        str(subject) % {"n": solicitation.pk},
        "matching/email/solicitation",
        context,
        "solicitation",
        solicitation.pk,
    )


def send_withdrawn(solicitation: Solicitation, *, placed: bool = True) -> bool:
    context = {
        "organisation": solicitation.search.organisation,
        "greeting": _greeting(solicitation.professional),
        "number": solicitation.pk,
        "placed": placed,
    }
    subject = gettext_lazy("Demande n° %(n)s : patient déjà placé, merci")
    if not placed:
        subject = gettext_lazy("Demande n° %(n)s : demande retirée, merci")
    return _send(
        solicitation.email,
        str(subject) % {"n": solicitation.pk},
        "matching/email/withdrawn",
        context,
        "solicitation",
        solicitation.pk,
    )


def notify_team_accepted(search: MTSearch) -> bool:
    """Tell the coordinator who opened the search that a GP accepted (no name, a link)."""
    user = search.opened_by
    if user is None or not user.email:
        return False
    context = {
        "organisation": search.organisation,
        "url": settings.SITE_URL + reverse("matching:search-detail", args=[search.pk]),
        "number": search.pk,
    }
    subject = gettext_lazy("Recherche de médecin traitant n° %(n)s : un médecin a accepté")
    return _send(
        user.email,
        str(subject) % {"n": search.pk},
        "matching/email/team_accepted",
        context,
        "mt search",
        search.pk,
    )
