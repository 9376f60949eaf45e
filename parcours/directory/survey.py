"""The GP availability survey: ask the territory's GPs whether they accept new patients.

A coordinator launches a survey (``survey_launch``): every GP of the territory whose
practice situation has an e-mail gets a ``SurveyRequest`` and a message with three signed
links (now / within 6 months / no). A link opens a confirmation page; only its button
(POST) records the answer (``survey_answer``), because mail scanners open links before
people do. The answer becomes the GP's ``Availability`` for ``validity_months`` months
(``availability.availability_declare``, source: survey). Until the survey closes, the same
link changes the answer. ``survey_remind_due`` (the periodic job) reminds those who have not
answered.

Tokens are signed (``django.core.signing``, salted) and hold only the request id and the
answer the link carries; they are valid until the survey's ``closes_on`` (inclusive, in
Europe/Paris). No personal data in URLs, subjects or logs.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scope, scopes_disabled

from parcours.accounts.models import Organisation, User
from parcours.audit.models import Action
from parcours.audit.services import audit_log
from parcours.territory.selectors import territory_commune_choices

# AGE_GROUPS, MAX_CAPACITY and add_months moved to availability.py; still importable here.
from .availability import AGE_GROUPS as AGE_GROUPS
from .availability import MAX_CAPACITY as MAX_CAPACITY
from .availability import add_months as add_months
from .availability import availability_record
from .models import (
    Availability,
    AvailabilitySurvey,
    PracticeSituation,
    Professional,
    Source,
    SurveyRequest,
)

logger = logging.getLogger(__name__)

SURVEY_SALT = "parcours.directory.survey"

# A GP: RPPS profession "Médecin" with a general practice savoir-faire.
GP_PROFESSION_CODE = "10"
GP_SAVOIR_FAIRE_CODES = (
    "SM54",  # Médecine générale
    "SM53",  # Spécialiste en médecine générale
    "SM26",  # Qualifié en médecine générale
)


def is_gp_q(prefix: str = "") -> Q:
    """The GP rule as a filter (``prefix``: the path to the professional, e.g.
    "professional__")."""
    return Q(
        **{
            f"{prefix}profession_code": GP_PROFESSION_CODE,
            f"{prefix}savoir_faire_code__in": GP_SAVOIR_FAIRE_CODES,
        }
    )


def is_gp(professional: Professional) -> bool:
    return (
        professional.profession_code == GP_PROFESSION_CODE
        and professional.savoir_faire_code in GP_SAVOIR_FAIRE_CODES
    )


Accepting = Availability.Accepting


def survey_is_open(survey: AvailabilitySurvey, today: datetime.date | None = None) -> bool:
    """Answers are accepted until ``closes_on`` included (Europe/Paris)."""
    return (today or timezone.localdate()) <= survey.closes_on


# --- Who is asked --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    professional: Professional
    situation: PracticeSituation  # the practice situation (in the territory) with an e-mail

    @property
    def email(self) -> str:
        return self.situation.email


def _territory_gp_situations(organisation: Organisation) -> QuerySet[PracticeSituation]:
    return PracticeSituation.objects.filter(
        is_gp_q("professional__"),
        is_active=True,
        professional__is_active=True,
        commune__in=territory_commune_choices(organisation=organisation),
    )


def survey_recipients(*, organisation: Organisation) -> list[Recipient]:
    """The territory's GPs with an e-mail on one of their active practice situations there,
    one per GP (the first situation with an e-mail), by name."""
    situations = (
        _territory_gp_situations(organisation)
        .exclude(email="")
        .select_related("professional", "commune")
        .order_by("professional__last_name", "professional__first_name", "professional_id", "pk")
    )
    seen: set[int] = set()
    recipients = []
    for situation in situations:
        if situation.professional_id not in seen:
            seen.add(situation.professional_id)
            recipients.append(Recipient(professional=situation.professional, situation=situation))
    return recipients


def survey_gps_without_email(*, organisation: Organisation) -> int:
    """How many GPs of the territory cannot be asked: no e-mail on any situation there."""
    with_email = _territory_gp_situations(organisation).exclude(email="").values("professional_id")
    return (
        _territory_gp_situations(organisation)
        .exclude(professional_id__in=with_email)
        .values("professional_id")
        .distinct()
        .count()
    )


# --- Reads for the coordination team -------------------------------------------------------


def survey_list(*, organisation: Organisation) -> QuerySet[AvailabilitySurvey]:
    return (
        AvailabilitySurvey.objects.filter(organisation=organisation)
        .select_related("created_by")
        .annotate(
            asked=Count("requests"),
            answered=Count("requests", filter=Q(requests__answered_at__isnull=False)),
        )
    )


def survey_open(*, organisation: Organisation) -> AvailabilitySurvey | None:
    """The organisation's survey still accepting answers, if any."""
    return (
        AvailabilitySurvey.objects.filter(
            organisation=organisation, closes_on__gte=timezone.localdate()
        )
        .order_by("-closes_on")
        .first()
    )


def survey_get(*, organisation: Organisation, survey_id: int) -> AvailabilitySurvey:
    """One survey of the organisation; another organisation's answers 404."""
    try:
        return AvailabilitySurvey.objects.select_related("created_by").get(
            organisation=organisation, pk=survey_id
        )
    except AvailabilitySurvey.DoesNotExist:
        raise Http404 from None


def survey_requests(*, survey: AvailabilitySurvey) -> QuerySet[SurveyRequest]:
    return (
        SurveyRequest.objects.filter(organisation=survey.organisation, survey=survey)
        .select_related("professional")
        .order_by("professional__last_name", "professional__first_name", "pk")
    )


def survey_counts(*, survey: AvailabilitySurvey) -> dict:
    """Asked, answered, per answer, not answered, and the places offered."""
    requests = SurveyRequest.objects.filter(organisation=survey.organisation, survey=survey)
    counts = requests.aggregate(
        asked=Count("pk"),
        answered=Count("pk", filter=Q(answered_at__isnull=False)),
        now=Count("pk", filter=Q(answer=Accepting.NOW)),
        within_6_months=Count("pk", filter=Q(answer=Accepting.WITHIN_SIX_MONTHS)),
        no=Count("pk", filter=Q(answer=Accepting.NO)),
        not_sent=Count("pk", filter=Q(sent_at__isnull=True)),
        capacity=Sum("capacity", filter=~Q(answer=Accepting.NO)),
    )
    counts["not_answered"] = counts["asked"] - counts["answered"]
    counts["capacity"] = counts["capacity"] or 0
    return counts


# --- Launching, sending, reminding ---------------------------------------------------------


def _validate_settings(
    *, closes_on: datetime.date, reminder_days: int, max_reminders: int, validity_months: int
) -> None:
    errors = {}
    if closes_on < timezone.localdate():
        errors["closes_on"] = _("La date de clôture ne peut pas être dans le passé.")
    if not 1 <= reminder_days <= 90:
        errors["reminder_days"] = _("Le délai de relance va de 1 à 90 jours.")
    if not 0 <= max_reminders <= 10:
        errors["max_reminders"] = _("Le nombre de relances va de 0 à 10.")
    if not 1 <= validity_months <= 36:
        errors["validity_months"] = _("La validité des réponses va de 1 à 36 mois.")
    if errors:
        raise ValidationError(errors)


def survey_launch(
    *,
    organisation: Organisation,
    by: User | None,
    closes_on: datetime.date,
    reminder_days: int = 7,
    max_reminders: int = 2,
    validity_months: int = 6,
    request=None,
) -> AvailabilitySurvey:
    """Create the survey and one request per GP of the territory with an e-mail, then send
    the messages (a background job; run at once in tests). One survey open at a time."""
    _validate_settings(
        closes_on=closes_on,
        reminder_days=reminder_days,
        max_reminders=max_reminders,
        validity_months=validity_months,
    )
    from .tasks import survey_send_pending_job  # tasks import this module

    with transaction.atomic():
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()  # one at a time
        current = survey_open(organisation=organisation)
        if current is not None:
            raise ValidationError(
                _(
                    "Une enquête est déjà en cours (réponses acceptées jusqu'au %(date)s). "
                    "Clôturez-la avant d'en lancer une nouvelle."
                )
                % {"date": date_format(current.closes_on, "SHORT_DATE_FORMAT")}
            )
        recipients = survey_recipients(organisation=organisation)
        if not recipients:
            raise ValidationError(
                _(
                    "Aucun médecin généraliste du territoire n'a d'adresse e-mail dans "
                    "l'annuaire : il n'y a personne à interroger."
                )
            )
        survey = AvailabilitySurvey.objects.create(
            organisation=organisation,
            created_by=by,
            closes_on=closes_on,
            reminder_days=reminder_days,
            max_reminders=max_reminders,
            validity_months=validity_months,
        )
        SurveyRequest.objects.bulk_create(
            SurveyRequest(
                survey=survey,
                organisation=organisation,
                professional=recipient.professional,
                email=recipient.email,
            )
            for recipient in recipients
        )
        audit_log(
            action=Action.CREATE,
            request=request,
            actor=by,
            organisation=organisation,
            obj=survey,
            details={
                "requests": len(recipients),
                "closes_on": closes_on.isoformat(),
                "validity_months": validity_months,
            },
        )
        # The database queue stores the job in this transaction: workers see it after COMMIT.
        survey_send_pending_job.enqueue(survey.pk)
    return survey


@transaction.atomic
def survey_close(*, survey: AvailabilitySurvey, by: User | None, request=None) -> None:
    """Stop accepting answers from today: the links stop working, no more reminders."""
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    closed = AvailabilitySurvey.objects.filter(pk=survey.pk, closes_on__gt=yesterday).update(
        closes_on=yesterday
    )
    survey.refresh_from_db()
    if not closed:
        return
    audit_log(
        action=Action.UPDATE,
        request=request,
        actor=by,
        organisation=survey.organisation,
        obj=survey,
        details={"closed": True, "closes_on": survey.closes_on.isoformat()},
    )


def survey_token(survey_request: SurveyRequest, answer: str) -> str:
    """The signed token of one link: the request id and the answer it carries."""
    return signing.dumps({"r": survey_request.pk, "a": answer}, salt=SURVEY_SALT)


def survey_answer_url(survey_request: SurveyRequest, answer: str) -> str:
    token = survey_token(survey_request, answer)
    return settings.SITE_URL + reverse("directory:survey-answer", args=[token])


def _send(survey_request: SurveyRequest, *, reminder: bool) -> None:
    survey = survey_request.survey
    person = survey_request.professional
    context = {
        "organisation": survey.organisation,
        "greeting": " ".join(filter(None, [person.civility, person.last_name])),
        "closes_on": survey.closes_on,
        "validity_months": survey.validity_months,
        "reminder": reminder,
        "links": [
            (label, survey_answer_url(survey_request, answer))
            for answer, label in Accepting.choices
        ],
    }
    if reminder:
        subject = _("Rappel : accueillez-vous de nouveaux patients ?")
    else:
        subject = _("Accueillez-vous de nouveaux patients ?")
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("directory/email/survey.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[survey_request.email],
    )
    html = render_to_string("directory/email/survey.html", context)
    message.attach_alternative(html, "text/html")
    message.send()


def _claim_and_send(survey_request: SurveyRequest, now: datetime.datetime) -> bool:
    """Send the first message or the next reminder, once: the row is claimed by a conditional
    update, so two runs (or two workers) never send the same message twice. A failed send
    gives the claim back for the next run."""
    reminder = survey_request.sent_at is not None
    before = {
        "sent_at": survey_request.sent_at,
        "reminders_sent": survey_request.reminders_sent,
        "last_sent_at": survey_request.last_sent_at,
    }
    claim = SurveyRequest.objects.filter(pk=survey_request.pk, answered_at__isnull=True, **before)
    changes = {"last_sent_at": now}
    if reminder:
        changes["reminders_sent"] = F("reminders_sent") + 1
    else:
        changes["sent_at"] = now
    if not claim.update(**changes):
        return False
    try:
        _send(survey_request, reminder=reminder)
    except Exception as error:  # an SMTP failure must not stop the others; retried next run
        # The class only: SMTP errors quote the recipients' addresses.
        logger.warning(
            "survey request %s: message not sent (%s)", survey_request.pk, type(error).__name__
        )
        SurveyRequest.objects.filter(pk=survey_request.pk).update(**before)
        return False
    return True


def _open_surveys(today: datetime.date) -> list[AvailabilitySurvey]:
    with scopes_disabled():
        return list(
            AvailabilitySurvey.objects.filter(closes_on__gte=today).select_related("organisation")
        )


def survey_send_pending(*, survey_id: int, now: datetime.datetime | None = None) -> int:
    """Send the first message to every request of an open survey that has none yet."""
    now = now or timezone.now()
    with scopes_disabled():
        survey = (
            AvailabilitySurvey.objects.select_related("organisation").filter(pk=survey_id).first()
        )
    if survey is None or not survey_is_open(survey, timezone.localdate(now)):
        return 0
    with scope(organisation=survey.organisation):
        pending = survey_requests(survey=survey).filter(sent_at__isnull=True)
        return sum(_claim_and_send(item, now) for item in pending)


def survey_remind_due(now: datetime.datetime | None = None) -> int:
    """The periodic job: in every open survey, remind the GPs who have not answered when
    ``reminder_days`` have passed since the last message, at most ``max_reminders`` times;
    send first messages still missing. Returns the number of messages sent."""
    now = now or timezone.now()
    sent = 0
    for survey in _open_surveys(timezone.localdate(now)):
        sent += survey_send_pending(survey_id=survey.pk, now=now)
        cutoff = now - datetime.timedelta(days=survey.reminder_days)
        with scope(organisation=survey.organisation):
            due = survey_requests(survey=survey).filter(
                answered_at__isnull=True,
                sent_at__isnull=False,
                reminders_sent__lt=survey.max_reminders,
                last_sent_at__lte=cutoff,
            )
            sent += sum(_claim_and_send(item, now) for item in due)
    return sent


# --- The GP's answer -----------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    survey_request: SurveyRequest
    answer: str  # the answer the link carries

    @property
    def survey(self) -> AvailabilitySurvey:
        return self.survey_request.survey


INVALID_LINK = gettext_lazy(
    "Ce lien n'est plus valide : il est incomplet, a été modifié, ou l'enquête est close."
)


def survey_link_open(*, token: str, request=None, audit: bool = True) -> Link:
    """The request and answer a link carries, if the survey still accepts answers.

    Raises ValidationError (French message) for a tampered token or a closed survey.
    Opening a link is audited (``audit=False`` for the POST that follows it).
    """
    try:
        data = signing.loads(token, salt=SURVEY_SALT)
        request_id, answer = int(data["r"]), str(data["a"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationError(INVALID_LINK) from None
    with scopes_disabled():
        survey_request = (
            SurveyRequest.objects.select_related("survey", "organisation", "professional")
            .filter(pk=request_id)
            .first()
        )
    if survey_request is None or answer not in Accepting.values:
        raise ValidationError(INVALID_LINK)
    if not survey_is_open(survey_request.survey):
        raise ValidationError(
            _(
                "Ce lien n'est plus valide : l'enquête est close (les réponses étaient "
                "acceptées jusqu'au %(date)s). Vous pouvez signaler vos disponibilités "
                "directement à %(organisation)s."
            )
            % {
                "date": date_format(survey_request.survey.closes_on, "SHORT_DATE_FORMAT"),
                "organisation": survey_request.organisation.name,
            }
        )
    if audit:
        audit_log(
            action=Action.LINK_OPENED,
            request=request,
            organisation=survey_request.organisation,
            obj=survey_request,
            details={"answer": answer},
        )
    return Link(survey_request=survey_request, answer=answer)


def survey_answer(
    *,
    survey_request: SurveyRequest,
    answer: str,
    capacity: int | None = None,
    age_groups: list[str] | tuple[str, ...] = (),
    home_visits: bool = False,
    request=None,
) -> Availability:
    """Record the GP's answer as their ``Availability`` (``availability_declare``, source:
    survey), declared today, valid the survey's ``validity_months``.

    Idempotent: the same answer again changes nothing (and writes no audit event); another
    answer before closing replaces it.
    """
    organisation = survey_request.organisation
    with scope(organisation=organisation), transaction.atomic():
        # Serialise two answers to the same request (double click, two tabs).
        locked = (
            SurveyRequest.objects.select_for_update()
            .select_related("survey")
            .get(pk=survey_request.pk, organisation=organisation)
        )
        if not survey_is_open(locked.survey):
            raise ValidationError(INVALID_LINK)
        availability, changed = availability_record(
            organisation=organisation,
            professional=locked.professional_id,
            accepting=answer,
            capacity=capacity,
            age_groups=age_groups,
            home_visits=home_visits,
            validity_months=locked.survey.validity_months,
            source=Source.SURVEY,
            request=request,
            audit_details={"survey_request": locked.pk},
        )
        answered = locked.answered_at is not None and (locked.answer, locked.capacity) == (
            answer,
            availability.capacity,
        )
        if changed or not answered:
            SurveyRequest.objects.filter(pk=locked.pk).update(
                answer=answer, capacity=availability.capacity, answered_at=timezone.now()
            )
            survey_request.refresh_from_db()
    return availability
