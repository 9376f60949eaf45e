"""The figures of the médecin traitant search (what the indicators will use), counted from
records built through the services, and their page for coordinators and managers."""

import datetime
import html as html_module

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from parcours.directory.tests.directory_factories import PracticeSituationFactory
from parcours.matching import selectors, services
from parcours.matching.models import Call, MTSearch
from parcours.matching.tests.matching_factories import (
    open_search,
    person_without_mt,
    pool_gp,
    reload,
)

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
URL = "/medecin-traitant/chiffres/"


def text(response) -> str:
    return html_module.unescape(response.content.decode())


def territory_gp():
    return PracticeSituationFactory().professional


def opened_days_ago(search, days: int) -> None:
    with scopes_disabled():
        MTSearch.objects.filter(pk=search.pk).update(opened_at=timezone.now() - days * DAY)


@pytest.fixture
def records(org_a, org_b, claire, bruno, settings):
    """Six searches of organisation A (see each line), one of B."""
    settings.MATCHING_WAVE_SIZE = 5
    a = pool_gp(org_a, latitude=45.70, longitude=4.89)
    b = pool_gp(org_a, latitude=45.72, longitude=4.89)
    d, e, f = territory_gp(), territory_gp(), territory_gp()

    # 1. A accepts from the e-mail; the person chooses A and declares A.
    found_email = open_search(org_a, by=claire)
    first = {s.professional_id: s for s in services.wave_send(search=found_email, by=claire)}
    services.solicitation_accept(solicitation=first[a.pk])
    services.person_choice_record(search=found_email, by=claire, choice="accepted")
    services.mt_declared(search=found_email, by=claire, declared_on=timezone.localdate())

    # 2. Both pool GPs decline; one GP refuses on the phone, another accepts.
    found_phone = open_search(org_a, by=claire)
    sent = {s.professional_id: s for s in services.wave_send(search=found_phone, by=claire)}
    services.solicitation_decline(solicitation=sent[b.pk], reason="full")
    services.solicitation_decline(solicitation=sent[a.pk], reason="not_now")
    for gp, outcome, reason in ((d, "refused", "too_far"), (e, "accepted", "")):
        services.call_record(
            search=found_phone, by=claire, professional=gp, outcome=outcome, reason=reason
        )
    services.person_choice_record(search=found_phone, by=claire, choice="accepted")

    # 3. ALD: the IPA evaluates and proposes the file to F (shared follow-up).
    found_ipa = open_search(org_a, person_without_mt(org_a, ald=["8"]), by=claire)
    services.ipa_record(
        search=found_ipa,
        by=claire,
        ipa_name="IPA",
        visit_on=timezone.localdate(),
        evaluation="",
    )
    services.ipa_propose(search=found_ipa, by=claire, professional=f, follow_up_mode="shared")
    services.person_choice_record(search=found_ipa, by=claire, choice="accepted")

    # 4. No answer to the wave, then the call round: D does not answer.
    calling = open_search(org_a, by=claire)
    services.wave_send(search=calling, by=claire)
    with scopes_disabled():
        MTSearch.objects.filter(pk=calling.pk).update(stage=MTSearch.Stage.CALL_ROUND)
    services.call_record(search=calling, by=claire, professional=d, outcome="no_answer")

    # 5. Just opened. 6. Closed without a doctor.
    just_opened = open_search(org_a, by=claire)
    closed = open_search(org_a, by=claire)
    services.search_close(search=closed, by=claire, reason="Déménagement")

    # Organisation B's search is not counted for A.
    open_search(org_b, by=bruno)
    return {
        "found_email": found_email,
        "found_phone": found_phone,
        "found_ipa": found_ipa,
        "calling": calling,
        "just_opened": just_opened,
        "closed": closed,
    }


def recent(organisation):
    today = timezone.localdate()
    return selectors.figures(organisation=organisation, start=today - 60 * DAY, end=today)


def test_it_counts_the_searches_and_their_outcome(org_a, records):
    figures = recent(org_a)
    assert (figures.opened, figures.found, figures.declared) == (6, 3, 1)
    assert (figures.found_without_ipa, figures.found_with_ipa) == (2, 1)


def test_it_counts_the_gps_asked_and_those_who_accepted(org_a, records):
    figures = recent(org_a)
    assert figures.solicitations == 6  # two per wave, three waves
    assert figures.gps_solicited == 5  # A, B by e-mail; D, E on the phone; F by the IPA
    assert figures.gps_accepted == 3  # A (e-mail), E (phone), F (IPA)


def test_it_counts_refusals_by_reason(org_a, records):
    assert recent(org_a).refusals == [
        ("Patientèle complète", 1),
        ("Pas pour le moment", 1),
        ("Domicile trop éloigné", 1),
    ]


def test_it_counts_the_searches_still_without_a_doctor_by_stage(org_a, records):
    figures = recent(org_a)
    assert figures.running == 2
    assert figures.by_stage == [("Sollicitations par e-mail", 1), ("Tour d'appels", 1)]


def test_the_median_delay_runs_from_opening_to_the_persons_choice(org_a, records):
    for name, days in (("found_email", 10), ("found_phone", 4), ("found_ipa", 30)):
        opened_days_ago(records[name], days)
    assert recent(org_a).median_days_to_mt == 10.0


def test_the_period_bounds_the_searches_opened(org_a, records):
    opened_days_ago(records["just_opened"], 40)
    today = timezone.localdate()
    figures = selectors.figures(organisation=org_a, start=today - 30 * DAY, end=today)
    assert figures.opened == 5
    older = selectors.figures(organisation=org_a, start=today - 45 * DAY, end=today - 35 * DAY)
    assert (older.opened, older.found, older.solicitations, older.gps_solicited) == (1, 0, 0, 0)
    assert older.running == 2  # today's picture, whatever the period


def test_an_empty_period_counts_nothing(org_a):
    figures = recent(org_a)
    assert (figures.opened, figures.found, figures.median_days_to_mt, figures.refusals) == (
        0,
        0,
        None,
        [],
    )


# --- The page ------------------------------------------------------------------------------


def test_a_manager_sees_the_figures_of_the_current_year(client, manon, records):
    client.force_login(manon)
    response = client.get(reverse("matching:figures"))
    assert response.status_code == 200
    figures = response.context["figures"]
    today = timezone.localdate()
    assert (figures.start, figures.end) == (
        datetime.date(today.year, 1, 1),
        datetime.date(today.year, 12, 31),
    )
    assert figures.opened == 6
    page = text(response)
    row = '<tr data-figure="opened"><th scope="row" class="fw-normal">Recherches ouvertes</th>'
    assert row + '<td class="text-end">6</td>' in page
    assert "Patientèle complète" in page
    assert "Tour d'appels" in page
    # Counts only: no person, no doctor.
    person = reload(records["found_email"]).person
    assert person.birth_name not in page
    assert reload(records["found_email"]).accepted_professional.last_name not in page


def test_the_period_can_be_chosen(client, claire, records):
    opened_days_ago(records["just_opened"], 400)
    client.force_login(claire)
    today = timezone.localdate()
    start = today - 30 * DAY
    response = client.get(URL, {"start": start.strftime("%d/%m/%Y"), "end": today.isoformat()})
    assert response.status_code == 200
    assert response.context["figures"].opened == 5
    assert (response.context["figures"].start, response.context["figures"].end) == (start, today)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "31/02/2026", "end": ""}, "Saisissez une date valide (jj/mm/aaaa)."),
        ({"start": "hier", "end": "demain"}, "Saisissez une date valide (jj/mm/aaaa)."),
        (
            {"start": "2026-06-01", "end": "2026-01-01"},
            "La date de fin doit suivre la date de début.",
        ),
        ({"start": "0001-01-01", "end": "9999-12-31"}, "Choisissez des dates entre 2000 et 2100."),
        ({"start": "2000-01-01", "end": "2099-12-31"}, "La période ne peut pas dépasser dix ans."),
    ],
)
def test_bad_dates_are_a_french_error(client, manon, params, message):
    client.force_login(manon)
    response = client.get(URL, params)
    assert response.status_code == 200
    assert message in text(response)
    assert response.context["figures"] is None


def test_an_open_ended_period_runs_to_the_end_of_the_year(client, manon, records):
    client.force_login(manon)
    today = timezone.localdate()
    response = client.get(URL, {"start": today.isoformat(), "end": ""})
    figures = response.context["figures"]
    assert (figures.start, figures.end) == (today, datetime.date(today.year, 12, 31))
    assert figures.opened == 6


def test_the_figures_are_the_organisations_own(client, bruno, records):
    client.force_login(bruno)
    figures = client.get(URL).context["figures"]
    assert (figures.opened, figures.solicitations, figures.running) == (1, 0, 1)


@pytest.mark.parametrize("role", ["dr_martin", "paul"])
def test_professionals_and_partners_do_not_see_the_figures(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(URL).status_code == 403


def test_call_outcomes_in_the_period_count_once_per_gp(org_a, claire):
    """A GP called twice (no answer, then a refusal) is one GP asked, one refusal."""
    gp = territory_gp()
    search = open_search(org_a, by=claire)
    services.call_record(search=search, by=claire, professional=gp, outcome=Call.Outcome.NO_ANSWER)
    services.call_record(
        search=search, by=claire, professional=gp, outcome=Call.Outcome.REFUSED, reason="full"
    )
    figures = recent(org_a)
    assert (figures.gps_solicited, figures.gps_accepted) == (1, 0)
    assert figures.refusals == [("Patientèle complète", 1)]
