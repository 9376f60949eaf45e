"""The survey under concurrency (PostgreSQL): racing reminder runs send each reminder once,
racing answers to one request leave one declaration."""

import datetime
import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_scopes import scopes_disabled

from parcours.directory import survey as surveys
from parcours.directory.models import Availability, SurveyRequest
from parcours.directory.tests.directory_factories import CommuneFactory, PracticeSituationFactory
from parcours.territory.models import Territory

RACERS = 6

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def survey(org_a, claire):
    with scopes_disabled():
        territory = Territory.objects.create(organisation=org_a, name="CPTS de Vénissieux")
        territory.communes.add(CommuneFactory())
    for n in range(3):
        PracticeSituationFactory(email=f"gp{n}@example.org")
    with scopes_disabled():
        return surveys.survey_launch(
            organisation=org_a,
            by=claire,
            closes_on=timezone.localdate() + datetime.timedelta(days=21),
            reminder_days=7,
        )


def race(target) -> list[BaseException]:
    start = threading.Barrier(RACERS)
    errors: list[BaseException] = []

    def racer(n):
        try:
            start.wait()
            target(n)
        except BaseException as error:  # noqa: BLE001 - reported by the caller's assertion
            errors.append(error)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_racing_reminder_runs_send_each_reminder_once(survey):
    mail.outbox.clear()
    later = timezone.now() + datetime.timedelta(days=8)

    errors = race(lambda _n: surveys.survey_remind_due(later))

    assert errors == []
    assert sorted(m.to[0] for m in mail.outbox) == [f"gp{n}@example.org" for n in range(3)]
    with scopes_disabled():
        assert set(SurveyRequest.objects.values_list("reminders_sent", flat=True)) == {1}


def test_racing_answers_leave_one_declaration(survey):
    with scopes_disabled():
        asked = SurveyRequest.objects.filter(survey=survey).first()
    answers = ["now", "within_6_months", "no"]

    errors = race(
        lambda n: surveys.survey_answer(survey_request=asked, answer=answers[n % 3], capacity=n + 1)
    )

    assert errors == []
    with scopes_disabled():
        [availability] = Availability.objects.filter(professional=asked.professional_id)
        asked.refresh_from_db()
    assert availability.accepting == asked.answer  # the last answer wins in both
