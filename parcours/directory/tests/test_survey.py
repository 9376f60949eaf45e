"""GP availability survey: launch, signed one-click links, answers, reminders, expiry."""

import datetime
import html
import re
from zoneinfo import ZoneInfo

import pytest
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from parcours.audit.models import Action, AuditEvent
from parcours.core.scheduler import PERIODIC_JOBS
from parcours.directory import survey as surveys
from parcours.directory.models import Availability, AvailabilitySurvey, Source, SurveyRequest
from parcours.directory.tests.directory_factories import (
    AvailabilityFactory,
    CommuneFactory,
    PracticeSituationFactory,
    ProfessionalFactory,
)
from parcours.territory.models import Territory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
LAUNCH_DAY = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
CLOSES_ON = datetime.date(2026, 3, 23)


@pytest.fixture
def clock(monkeypatch):
    """A clock the test moves: ``clock.set(datetime)``; starts on the launch day."""

    class Clock:
        def set(self, when: datetime.datetime) -> None:
            monkeypatch.setattr(timezone, "now", lambda: when)

        def days_later(self, days: float) -> None:
            self.set(LAUNCH_DAY + datetime.timedelta(days=days))

    moved = Clock()
    moved.set(LAUNCH_DAY)
    return moved


@pytest.fixture
def territory(org_a):
    with scopes_disabled():
        territory = Territory.objects.create(organisation=org_a, name="CPTS de Vénissieux")
        territory.communes.add(CommuneFactory())  # Vénissieux, 69259
    return territory


@pytest.fixture
def gps(territory):
    """Two GPs of the territory with an e-mail, and those the survey must leave out."""
    elsewhere = CommuneFactory(insee="67482", name="Strasbourg", departement="67", region="44")
    dupont = ProfessionalFactory(first_name="Anne", last_name="Dupont", civility="Docteur")
    PracticeSituationFactory(professional=dupont, email="")  # a second place, no e-mail
    PracticeSituationFactory(professional=dupont, email="cabinet.dupont@example.org")
    bernard = ProfessionalFactory(first_name="Luc", last_name="Bernard", savoir_faire_code="SM53")
    PracticeSituationFactory(professional=bernard, email="dr.bernard@example.org")
    # Left out: no e-mail, outside the territory, not a GP, another specialty, inactive.
    PracticeSituationFactory(professional__last_name="Sansmail", email="")
    PracticeSituationFactory(
        professional__last_name="Ailleurs", commune=elsewhere, email="ailleurs@example.org"
    )
    PracticeSituationFactory(
        professional__last_name="Infirmier",
        professional__profession_code="60",
        professional__savoir_faire_code="",
        email="infirmier@example.org",
    )
    PracticeSituationFactory(
        professional__last_name="Cardiologue",
        professional__savoir_faire_code="SM04",
        email="cardio@example.org",
    )
    PracticeSituationFactory(
        professional__last_name="Retraite", is_active=False, email="retraite@example.org"
    )
    return {"dupont": dupont, "bernard": bernard}


def launch(org_a, claire, **overrides) -> AvailabilitySurvey:
    settings = {
        "closes_on": CLOSES_ON,
        "reminder_days": 7,
        "max_reminders": 2,
        "validity_months": 6,
        **overrides,
    }
    with scopes_disabled():
        return surveys.survey_launch(organisation=org_a, by=claire, **settings)


def request_of(survey, professional) -> SurveyRequest:
    with scopes_disabled():
        return SurveyRequest.objects.get(survey=survey, professional=professional)


def links_in(message) -> dict[str, str]:
    """The message's links by answer label ("Oui, dès maintenant" → URL path)."""
    found = re.findall(r"^- (.+) :\n  (\S+)$", message.body, re.MULTILINE)
    return {label: url.removeprefix("http://testserver") for label, url in found}


def message_to(address: str):
    [message] = [m for m in mail.outbox if m.to == [address]]
    return message


def text(response) -> str:
    """The page as the reader sees it (entities such as &#x27; decoded)."""
    return html.unescape(response.content.decode())


def availability_of(org, professional) -> Availability | None:
    with scopes_disabled():
        return Availability.objects.filter(organisation=org, professional=professional).first()


def events(action, object_type) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_type=object_type).order_by("id"))


# --- Launch --------------------------------------------------------------------------------


def test_the_launch_asks_each_gp_of_the_territory_with_an_email_once(
    org_a, claire, gps, clock, settings
):
    settings.DEFAULT_FROM_EMAIL = "CPTS <enquete@example.org>"
    survey = launch(org_a, claire)

    with scopes_disabled():
        asked = {r.professional_id: r.email for r in SurveyRequest.objects.filter(survey=survey)}
    assert asked == {
        gps["dupont"].pk: "cabinet.dupont@example.org",
        gps["bernard"].pk: "dr.bernard@example.org",
    }
    assert sorted(m.to[0] for m in mail.outbox) == [
        "cabinet.dupont@example.org",
        "dr.bernard@example.org",
    ]
    message = message_to("cabinet.dupont@example.org")
    assert message.from_email == "CPTS <enquete@example.org>"
    assert message.subject == "Accueillez-vous de nouveaux patients ?"  # no name in it
    assert "Bonjour Docteur Dupont," in message.body
    assert set(links_in(message)) == {"Oui, dès maintenant", "Dans les 6 mois", "Non"}
    assert "23/03/2026" in message.body
    html_body, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "Dans les 6 mois" in html_body
    for path in links_in(message).values():
        assert path in html.unescape(html_body)
    sent = request_of(survey, gps["dupont"])
    assert sent.sent_at == LAUNCH_DAY and sent.last_sent_at == LAUNCH_DAY
    assert sent.reminders_sent == 0


def test_the_link_carries_no_personal_data(org_a, claire, gps, clock):
    launch(org_a, claire)

    for path in links_in(message_to("cabinet.dupont@example.org")).values():
        assert re.fullmatch(r"/annuaire/disponibilite/[A-Za-z0-9_\-:]+/", path)
        token = path.split("/")[-2]
        payload = signing.loads(token, salt=surveys.SURVEY_SALT)
        assert set(payload) == {"r", "a"}
        for personal in ("dupont", "anne", "cabinet", gps["dupont"].rpps):
            assert personal not in token.lower()


def test_the_launch_is_audited(org_a, claire, gps, clock):
    survey = launch(org_a, claire)

    [event] = events(Action.CREATE, "directory.availabilitysurvey")
    assert event.object_id == str(survey.pk)
    assert event.actor == claire and event.organisation == org_a
    assert event.details == {"requests": 2, "closes_on": "2026-03-23", "validity_months": 6}


def test_the_launch_refuses_bad_settings_an_open_survey_and_nobody_to_ask(
    org_a, claire, territory, clock
):
    with pytest.raises(ValidationError, match="personne à interroger"):
        launch(org_a, claire)
    PracticeSituationFactory(email="gp@example.org")
    with pytest.raises(ValidationError) as error:
        launch(org_a, claire, closes_on=datetime.date(2026, 3, 1), validity_months=0)
    assert set(error.value.error_dict) == {"closes_on", "validity_months"}

    launch(org_a, claire)
    with pytest.raises(ValidationError, match="déjà en cours"):
        launch(org_a, claire)
    with scopes_disabled():
        assert AvailabilitySurvey.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_failed_send_is_retried_by_the_next_run(org_a, claire, gps, clock, monkeypatch):
    from django.core.mail import EmailMultiAlternatives

    real_send = EmailMultiAlternatives.send

    def flaky_send(message, *args, **kwargs):
        if message.to == ["dr.bernard@example.org"]:
            raise ConnectionError("SMTP down")
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", flaky_send)
    survey = launch(org_a, claire)
    assert [m.to for m in mail.outbox] == [["cabinet.dupont@example.org"]]
    assert request_of(survey, gps["bernard"]).sent_at is None

    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    clock.days_later(1 / 24)
    assert surveys.survey_remind_due() == 1
    assert message_to("dr.bernard@example.org").subject == "Accueillez-vous de nouveaux patients ?"
    assert request_of(survey, gps["bernard"]).sent_at is not None


# --- The link: GET confirms, POST records --------------------------------------------------


def test_opening_a_link_changes_nothing_and_is_audited(client, org_a, claire, gps, clock):
    survey = launch(org_a, claire)
    path = links_in(message_to("cabinet.dupont@example.org"))["Dans les 6 mois"]

    response = client.get(path)
    client.get(path)  # a mail scanner, then the GP

    assert response.status_code == 200
    page = text(response)
    assert "Vous avez choisi : <strong>Dans les 6 mois</strong>" in page
    assert "Confirmer ma réponse" in page
    assert re.search(r'value="within_6_months"[^>]*checked', page)
    assert "Rien n'est encore enregistré" in page
    assert availability_of(org_a, gps["dupont"]) is None
    unchanged = request_of(survey, gps["dupont"])
    assert unchanged.answered_at is None and unchanged.answer == ""
    opened = events(Action.LINK_OPENED, "directory.surveyrequest")
    assert [e.object_id for e in opened] == [str(unchanged.pk)] * 2
    assert opened[0].organisation == org_a and opened[0].actor is None
    assert response["Cache-Control"].startswith("max-age=0")


def test_confirming_records_the_availability(client, org_a, claire, gps, clock):
    survey = launch(org_a, claire, validity_months=6)
    path = links_in(message_to("cabinet.dupont@example.org"))["Oui, dès maintenant"]

    response = client.post(
        path,
        {
            "answer": "now",
            "capacity": "15",
            "age_groups": ["adults", "seniors"],
            "home_visits": "on",
        },
    )

    assert response.status_code == 200
    assert "Merci pour votre réponse" in text(response)
    assert "Vous pouvez modifier votre réponse" in text(response)
    availability = availability_of(org_a, gps["dupont"])
    assert availability.accepting == Availability.Accepting.NOW
    assert availability.capacity == 15
    assert availability.age_groups == ["adults", "seniors"]
    assert availability.home_visits is True
    assert availability.declared_on == datetime.date(2026, 3, 2)
    assert availability.expires_on == datetime.date(2026, 9, 2)
    assert availability.source == Source.SURVEY and availability.declared_by is None
    answered = request_of(survey, gps["dupont"])
    assert (answered.answer, answered.capacity) == ("now", 15)
    assert answered.answered_at == LAUNCH_DAY
    [event] = events(Action.CREATE, "directory.availability")
    assert event.object_id == str(availability.pk) and event.organisation == org_a
    assert event.details == {
        "survey_request": answered.pk,
        "accepting": "now",
        "capacity": 15,
        "expires_on": "2026-09-02",
    }
    assert not events(Action.LINK_OPENED, "directory.surveyrequest")  # the POST is no opening


def test_the_expiry_follows_the_surveys_validity(client, org_a, claire, gps, clock):
    launch(org_a, claire, validity_months=12, closes_on=datetime.date(2026, 4, 30))
    path = links_in(message_to("dr.bernard@example.org"))["Dans les 6 mois"]
    clock.set(datetime.datetime(2026, 3, 31, 18, 0, tzinfo=PARIS))

    client.post(path, {"answer": "within_6_months", "capacity": "5"})

    availability = availability_of(org_a, gps["bernard"])
    assert availability.declared_on == datetime.date(2026, 3, 31)
    assert availability.expires_on == datetime.date(2027, 3, 31)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ((2026, 3, 2), 6, (2026, 9, 2)),
        ((2026, 8, 31), 6, (2027, 2, 28)),
        ((2027, 8, 31), 6, (2028, 2, 29)),
        ((2026, 11, 15), 2, (2027, 1, 15)),
        ((2026, 1, 31), 1, (2026, 2, 28)),
        ((2026, 5, 10), 24, (2028, 5, 10)),
    ],
)
def test_add_months(day, months, expected):
    assert surveys.add_months(datetime.date(*day), months) == datetime.date(*expected)


def test_answering_twice_updates_the_answer_until_closing(client, org_a, claire, gps, clock):
    survey = launch(org_a, claire)
    links = links_in(message_to("cabinet.dupont@example.org"))
    client.post(links["Oui, dès maintenant"], {"answer": "now", "capacity": "10"})
    client.post(links["Oui, dès maintenant"], {"answer": "now", "capacity": "10"})  # double click
    assert len(events(Action.CREATE, "directory.availability")) == 1
    assert not events(Action.UPDATE, "directory.availability")

    clock.days_later(5)
    page = text(client.get(links["Non"]))
    assert "Vous avez déjà répondu le 02/03/2026" in page
    client.post(links["Non"], {"answer": "no", "capacity": "10", "home_visits": "on"})

    with scopes_disabled():
        assert Availability.objects.filter(professional=gps["dupont"]).count() == 1
    availability = availability_of(org_a, gps["dupont"])
    assert availability.accepting == Availability.Accepting.NO
    assert availability.capacity is None and availability.home_visits is False
    assert availability.declared_on == datetime.date(2026, 3, 7)
    answered = request_of(survey, gps["dupont"])
    assert (answered.answer, answered.capacity) == ("no", None)
    [update] = events(Action.UPDATE, "directory.availability")
    assert update.details["accepting"] == "no"


def test_an_answer_replaces_an_earlier_declaration(client, org_a, claire, gps, clock):
    AvailabilityFactory(
        organisation=org_a,
        professional=gps["bernard"],
        accepting="no",
        source=Source.MANUAL,
        declared_by=claire,
    )
    launch(org_a, claire)

    client.post(
        links_in(message_to("dr.bernard@example.org"))["Oui, dès maintenant"], {"answer": "now"}
    )

    availability = availability_of(org_a, gps["bernard"])
    assert (availability.accepting, availability.source) == ("now", Source.SURVEY)
    assert availability.capacity is None and availability.declared_by is None


def test_the_gp_may_change_the_choice_the_link_carries(client, org_a, claire, gps, clock):
    launch(org_a, claire)
    path = links_in(message_to("cabinet.dupont@example.org"))["Non"]

    client.post(path, {"answer": "within_6_months", "capacity": "3"})

    assert availability_of(org_a, gps["dupont"]).accepting == "within_6_months"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"answer": "now", "capacity": "beaucoup"}, "Saisissez un nombre entier."),
        ({"answer": "now", "capacity": "0"}, "supérieure ou égale à 1"),
        ({"answer": "peut-être"}, "Sélectionnez un choix valide."),
        ({"capacity": "4"}, "Ce champ est obligatoire."),
        ({"answer": "now", "age_groups": ["babies"]}, "Sélectionnez un choix valide."),
    ],
)
def test_bad_input_is_refused_in_french_and_records_nothing(
    client, org_a, claire, gps, clock, data, message
):
    survey = launch(org_a, claire)
    path = links_in(message_to("cabinet.dupont@example.org"))["Oui, dès maintenant"]

    response = client.post(path, data)

    assert response.status_code == 200
    assert message in text(response)
    assert availability_of(org_a, gps["dupont"]) is None
    assert request_of(survey, gps["dupont"]).answered_at is None


# --- Invalid links -------------------------------------------------------------------------


def test_a_tampered_link_is_refused(client, org_a, claire, gps, clock):
    survey = launch(org_a, claire)
    path = links_in(message_to("cabinet.dupont@example.org"))["Non"]
    token = path.split("/")[-2]
    dupont = request_of(survey, gps["dupont"])
    forged = [
        token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),  # signature changed
        signing.dumps({"r": dupont.pk, "a": "now"}),  # signed without the survey's salt
        signing.dumps({"r": dupont.pk, "a": "maybe"}, salt=surveys.SURVEY_SALT),
        signing.dumps({"r": 999_999, "a": "now"}, salt=surveys.SURVEY_SALT),
        signing.dumps({"a": "now"}, salt=surveys.SURVEY_SALT),
        "n-importe-quoi",
    ]
    for bad in forged:
        url = reverse("directory:survey-answer", args=[bad])
        response = client.get(url)
        assert response.status_code == 410, bad
        assert "Ce lien n'est plus valide" in text(response)
        assert client.post(url, {"answer": "now", "capacity": "3"}).status_code == 410
    assert availability_of(org_a, gps["dupont"]) is None
    assert not events(Action.LINK_OPENED, "directory.surveyrequest")


def test_links_expire_when_the_survey_closes(client, org_a, claire, gps, clock):
    survey = launch(org_a, claire)
    path = links_in(message_to("cabinet.dupont@example.org"))["Oui, dès maintenant"]
    clock.set(datetime.datetime(2026, 3, 23, 23, 30, tzinfo=PARIS))  # the last day
    assert client.get(path).status_code == 200

    clock.set(datetime.datetime(2026, 3, 24, 0, 5, tzinfo=PARIS))
    response = client.get(path)
    assert response.status_code == 410
    page = text(response)
    assert "l'enquête est close" in page and "23/03/2026" in page
    assert client.post(path, {"answer": "now", "capacity": "3"}).status_code == 410
    with pytest.raises(ValidationError):
        surveys.survey_answer(survey_request=request_of(survey, gps["dupont"]), answer="now")
    assert availability_of(org_a, gps["dupont"]) is None


def test_a_confirmation_page_left_open_past_closing_records_nothing(
    client, org_a, claire, gps, clock
):
    launch(org_a, claire)
    path = links_in(message_to("cabinet.dupont@example.org"))["Oui, dès maintenant"]
    assert client.get(path).status_code == 200
    clock.set(datetime.datetime(2026, 3, 24, 8, 0, tzinfo=PARIS))

    response = client.post(path, {"answer": "now"})

    assert response.status_code == 410
    assert availability_of(org_a, gps["dupont"]) is None


# --- Reminders -----------------------------------------------------------------------------


def test_reminders_go_to_non_answerers_after_the_delay_at_most_max_times(
    client, org_a, claire, gps, clock
):
    survey = launch(org_a, claire, reminder_days=7, max_reminders=2)
    client.post(
        links_in(message_to("cabinet.dupont@example.org"))["Non"], {"answer": "no"}
    )  # Dr Dupont answers; Dr Bernard does not
    mail.outbox.clear()

    clock.days_later(6.9)
    assert surveys.survey_remind_due() == 0

    clock.days_later(7)
    assert surveys.survey_remind_due() == 1
    assert surveys.survey_remind_due() == 0  # run twice: nothing more
    [reminder] = mail.outbox
    assert reminder.to == ["dr.bernard@example.org"]
    assert reminder.subject == "Rappel : accueillez-vous de nouveaux patients ?"
    assert "pas encore reçu votre réponse" in reminder.body
    assert len(links_in(reminder)) == 3

    clock.days_later(13)
    assert surveys.survey_remind_due() == 0  # 6 days after the reminder
    clock.days_later(14)
    assert surveys.survey_remind_due() == 1
    clock.days_later(21)
    assert surveys.survey_remind_due() == 0  # max_reminders reached

    bernard = request_of(survey, gps["bernard"])
    assert bernard.reminders_sent == 2
    assert bernard.last_sent_at == LAUNCH_DAY + datetime.timedelta(days=14)
    assert request_of(survey, gps["dupont"]).reminders_sent == 0
    assert [m.to for m in mail.outbox] == [["dr.bernard@example.org"]] * 2


def test_reminder_links_work(client, org_a, claire, gps, clock):
    launch(org_a, claire)
    mail.outbox.clear()
    clock.days_later(7)
    surveys.survey_remind_due()

    path = links_in(message_to("dr.bernard@example.org"))["Dans les 6 mois"]
    client.post(path, {"answer": "within_6_months", "capacity": "8"})

    assert availability_of(org_a, gps["bernard"]).capacity == 8


def test_no_reminder_after_closing(org_a, claire, gps, clock):
    launch(org_a, claire, closes_on=datetime.date(2026, 3, 8), reminder_days=7)
    mail.outbox.clear()

    clock.set(datetime.datetime(2026, 3, 9, 9, 0, tzinfo=PARIS))
    assert surveys.survey_remind_due() == 0
    assert mail.outbox == []


def test_no_reminder_after_the_coordinator_closes_the_survey(client, org_a, claire, gps, clock):
    survey = launch(org_a, claire)
    mail.outbox.clear()
    with scopes_disabled():
        surveys.survey_close(survey=survey, by=claire)
    clock.days_later(7)

    assert surveys.survey_remind_due() == 0
    assert mail.outbox == []
    [event] = events(Action.UPDATE, "directory.availabilitysurvey")
    assert event.details["closed"] is True


def test_the_reminders_run_as_a_periodic_job(org_a, claire, gps, clock):
    from parcours.directory.tasks import survey_reminders_job

    [job] = [job for job in PERIODIC_JOBS if job.name == "directory_survey_reminders"]
    assert job.task is survey_reminders_job
    launch(org_a, claire)
    mail.outbox.clear()
    clock.days_later(8)

    result = survey_reminders_job.enqueue()

    assert result.return_value == 2
    assert len(mail.outbox) == 2


# --- The directory ------------------------------------------------------------------------


def test_an_expired_answer_no_longer_counts_as_accepting(client, org_a, claire, gps, clock):
    from parcours.directory.search import SearchQuery, directory_search, search_index_rebuild

    launch(org_a, claire, validity_months=1)
    client.post(
        links_in(message_to("dr.bernard@example.org"))["Oui, dès maintenant"], {"answer": "now"}
    )
    search_index_rebuild()

    def accepting_now() -> set[int]:
        with scopes_disabled():
            result = directory_search(query=SearchQuery(accepting="now"), organisation=org_a)
        return {entry.professional_id for entry in result.page}

    assert accepting_now() == {gps["bernard"].pk}
    clock.set(datetime.datetime(2026, 4, 2, 12, 0, tzinfo=PARIS))  # expires_on: 02/04/2026
    assert accepting_now() == {gps["bernard"].pk}
    clock.set(datetime.datetime(2026, 4, 3, 8, 0, tzinfo=PARIS))
    assert accepting_now() == set()


# --- The coordination team's pages ---------------------------------------------------------


def test_the_launch_page_lists_the_gps_who_will_be_asked(client, claire, gps, clock):
    client.force_login(claire)

    response = client.get(reverse("directory:survey-launch"))

    page = text(response)
    assert "Anne Dupont" in page and "Luc Bernard" in page
    assert "cabinet.dupont@example.org" in page
    for left_out in ("Ailleurs", "Infirmier", "Cardiologue", "Retraite"):
        assert left_out not in page
    assert "1 médecin généraliste du territoire n'a pas d'adresse e-mail" in page
    assert "Envoyer le courriel à 2 médecins" in page


def test_a_coordinator_launches_and_follows_the_survey(client, org_a, claire, gps, clock):
    client.force_login(claire)

    response = client.post(
        reverse("directory:survey-launch"),
        {
            "closes_on": "23/03/2026",
            "reminder_days": "7",
            "max_reminders": "2",
            "validity_months": "6",
        },
        follow=True,
    )

    assert "L'enquête est lancée : 2 médecins sont interrogés." in text(response)
    with scopes_disabled():
        survey = AvailabilitySurvey.objects.get(organisation=org_a)
    assert survey.created_by == claire and survey.closes_on == CLOSES_ON
    assert len(mail.outbox) == 2
    client.logout()
    links = links_in(message_to("dr.bernard@example.org"))
    client.post(links["Oui, dès maintenant"], {"answer": "now", "capacity": "12"})

    client.force_login(claire)
    page = client.get(reverse("directory:survey-detail", args=[survey.pk]))
    counts = page.context["counts"]
    assert (counts["asked"], counts["answered"], counts["now"], counts["not_answered"]) == (
        2,
        1,
        1,
        1,
    )
    assert counts["capacity"] == 12
    content = text(page)
    assert "Luc Bernard" in content and "Oui, dès maintenant" in content
    assert "Pas de réponse" in content
    listing = text(client.get(reverse("directory:survey-list")))
    assert "23/03/2026" in listing


def test_the_launch_form_refuses_bad_input_in_french(client, org_a, claire, gps, clock):
    client.force_login(claire)

    response = client.post(
        reverse("directory:survey-launch"),
        {"closes_on": "31/02/2026", "reminder_days": "0", "max_reminders": "2"},
    )

    assert response.status_code == 200
    page = text(response)
    assert "Saisissez une date valide." in page
    assert "Ce champ est obligatoire." in page
    with scopes_disabled():
        assert not AvailabilitySurvey.objects.exists()
    assert mail.outbox == []


def test_closing_the_survey_makes_the_links_invalid(client, org_a, claire, gps, clock):
    survey = launch(org_a, claire)
    path = links_in(message_to("dr.bernard@example.org"))["Non"]
    client.force_login(claire)

    client.post(reverse("directory:survey-close", args=[survey.pk]))

    client.logout()
    assert client.get(path).status_code == 410
    client.force_login(claire)
    assert client.get(reverse("directory:survey-launch")).status_code == 200
    launch(org_a, claire)  # a new survey may start
