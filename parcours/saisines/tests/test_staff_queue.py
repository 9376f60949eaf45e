"""The coordinator's work queue: tabs with counts, filters, htmx fragments, no personal
data, and a number of queries that does not grow with the number of saisines."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from parcours.saisines.models import Orientation, Saisine, Status
from parcours.saisines.selectors import saisine_delays
from parcours.saisines.staff_selectors import (
    duration_label,
    overdue_condition,
    queue_counts,
)
from parcours.saisines.tests.saisine_factories import OrientationFactory, SaisineFactory

pytestmark = pytest.mark.django_db

QUEUE = reverse("saisines:queue")
DAY = datetime.timedelta(days=1)


def references(response) -> list[str]:
    return [row.saisine.reference for row in response.context["page"].object_list]


@pytest.fixture
def saisines(org_a, claire, hugo):
    """One saisine per situation the tabs tell apart."""
    now = timezone.now()
    made = {
        "new": SaisineFactory(organisation=org_a, reference="S-NEW"),
        "late": SaisineFactory(organisation=org_a, reference="S-LATE", received_at=now - 3 * DAY),
        "mine": SaisineFactory(
            organisation=org_a,
            reference="S-MINE",
            status=Status.TRIAGED,
            assigned_to=claire,
            urgency="urgent",
        ),
        "hugo": SaisineFactory(
            organisation=org_a, reference="S-HUGO", status=Status.TRIAGED, assigned_to=hugo
        ),
        "waiting": SaisineFactory(
            organisation=org_a,
            reference="S-WAIT",
            status=Status.IN_PROGRESS,
            first_response_at=now,
            decided_at=now,
            origin="resident",
        ),
        "flagged": SaisineFactory(
            organisation=org_a,
            reference="S-FLAG",
            status=Status.IN_PROGRESS,
            first_response_at=now,
            decided_at=now,
            bulletin="medico_social",
        ),
        "closed": SaisineFactory(
            organisation=org_a,
            reference="S-DONE",
            status=Status.CLOSED,
            received_at=now - 200 * DAY,
            first_response_at=now - 199 * DAY,
            decided_at=now - 199 * DAY,
            closed_at=now - 10 * DAY,
            outcome="Fait",
        ),
    }
    OrientationFactory(saisine=made["waiting"])
    OrientationFactory(saisine=made["flagged"], status=Orientation.Status.NO_ANSWER, flagged_at=now)
    return made


def test_each_tab_lists_its_saisines_with_counts(client, claire, saisines):
    client.force_login(claire)
    expected = {
        "new": ["S-LATE", "S-NEW"],  # oldest first
        "overdue": ["S-LATE"],
        "mine": ["S-MINE"],
        "waiting": ["S-WAIT"],
        "flagged": ["S-FLAG"],
        "open": ["S-MINE", "S-LATE", "S-HUGO", "S-NEW", "S-WAIT", "S-FLAG"],
        "closed": ["S-DONE"],
    }
    for tab, wanted in expected.items():
        response = client.get(QUEUE, {"tab": tab})
        assert response.status_code == 200
        found = references(response)
        if tab == "open":  # urgent first, then the oldest
            assert found[0] == "S-MINE" and sorted(found) == sorted(wanted)
        else:
            assert found == wanted, tab
        counts = {item["code"]: item["count"] for item in response.context["tabs"]}
        assert counts == {code: len(refs) for code, refs in expected.items()}


def test_the_default_tab_is_all_open_saisines(client, claire, saisines):
    client.force_login(claire)
    response = client.get(QUEUE)
    assert response.context["params"]["tab"] == "open"
    assert "S-DONE" not in references(response)


def test_filters_narrow_the_list_and_the_counts(client, claire, saisines):
    client.force_login(claire)
    response = client.get(QUEUE, {"tab": "open", "urgency": "urgent"})
    assert references(response) == ["S-MINE"]
    counts = {item["code"]: item["count"] for item in response.context["tabs"]}
    assert counts["open"] == 1 and counts["mine"] == 1 and counts["new"] == 0
    assert references(client.get(QUEUE, {"origin": "resident"})) == ["S-WAIT"]
    assert references(client.get(QUEUE, {"bulletin": "medico_social"})) == ["S-FLAG"]
    # The tab links keep the filters.
    links = {item["code"]: item["url"] for item in response.context["tabs"]}
    assert "urgency=urgent" in links["new"] and "tab=new" in links["new"]


@pytest.mark.parametrize(
    "query",
    [
        {"tab": "nimporte"},
        {"urgency": "<script>"},
        {"origin": "x" * 500},
        {"page": "abc"},
        {"page": "99999"},
        {"bulletin": "\x00"},
    ],
)
def test_odd_query_strings_never_break_the_queue(client, claire, saisines, query):
    client.force_login(claire)
    assert client.get(QUEUE, query).status_code == 200


def test_an_htmx_request_gets_the_list_fragment_only(client, claire, saisines):
    client.force_login(claire)
    response = client.get(QUEUE, {"tab": "mine"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="queue"') and "<html" not in html
    assert "S-MINE" in html and "S-NEW" not in html
    assert "HX-Request" in response["Vary"]
    # Tabs and filters ask for fragments and push the URL, with a plain link beside.
    assert 'hx-push-url="true"' in html and 'hx-get="/saisines/?tab=new"' in html
    assert 'href="/saisines/?tab=new"' in html
    page = client.get(QUEUE, {"tab": "mine"}).content.decode()
    assert "<html" in page and '<div id="queue"' in page


def test_a_history_restore_gets_the_whole_page(client, claire, saisines):
    client.force_login(claire)
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in client.get(QUEUE, headers=headers).content.decode()


def test_the_list_shows_no_personal_data_nor_health_text(client, claire, org_a):
    SaisineFactory(
        organisation=org_a,
        reference="S-SECRET",
        anonymous_description="Personne : Odile LAMBERT, née ou né le 05/05/1950",
        requester_name="Sophie Requérante",
        requester_phone="+33612345678",
    )
    client.force_login(claire)
    html = client.get(QUEUE).content.decode()
    assert "S-SECRET" in html
    for secret in (
        "Difficulté clinique confidentielle",
        "Précisions confidentielles",
        "LAMBERT",
        "Requérante",
        "06 12 34 56 78",
        "demandeur",  # the factory's requester e-mail
    ):
        assert secret not in html


def test_a_public_professional_saisine_with_an_unverified_email_has_a_badge(client, claire, org_a):
    now = timezone.now()
    SaisineFactory(organisation=org_a, reference="S-UNVERIFIED", channel="web")
    SaisineFactory(
        organisation=org_a, reference="S-VERIFIED", channel="web", requester_email_verified_at=now
    )
    SaisineFactory(organisation=org_a, reference="S-RESIDENT", channel="web", origin="resident")
    SaisineFactory(organisation=org_a, reference="S-PHONE", channel="phone")
    client.force_login(claire)
    rows = {
        row.saisine.reference: row.unverified_email
        for row in client.get(QUEUE).context["page"].object_list
    }
    assert rows == {
        "S-UNVERIFIED": True,
        "S-VERIFIED": False,
        "S-RESIDENT": False,
        "S-PHONE": False,
    }
    assert client.get(QUEUE).content.decode().count("E-mail non vérifié") == 1


def test_rows_show_the_delays_against_their_targets(client, claire, saisines):
    client.force_login(claire)
    html = client.get(QUEUE, {"tab": "overdue"}).content.decode()
    assert "Première réponse" in html and "en retard" in html and "cible 2 jours" in html


def test_the_query_count_does_not_grow_with_the_number_of_saisines(
    client, claire, hugo, org_a, django_assert_max_num_queries
):
    def make(count):
        for index in range(count):
            saisine = SaisineFactory(organisation=org_a, assigned_to=hugo if index % 2 else claire)
            OrientationFactory(saisine=saisine)

    client.force_login(claire)
    make(2)
    client.get(QUEUE)  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(QUEUE).status_code == 200
    make(40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(QUEUE, {"tab": "open"})
    assert len(response.context["page"].object_list) == 42


def test_managers_professionals_and_partners_are_refused(client, manon, dr_martin, paul):
    for user in (manon, dr_martin, paul):
        client.force_login(user)
        assert client.get(QUEUE).status_code == 403


def test_another_organisations_saisines_are_never_counted_nor_listed(client, claire, org_a, org_b):
    SaisineFactory(organisation=org_a, reference="S-A")
    other = SaisineFactory(organisation=org_b, reference="S-SECRET-B")
    OrientationFactory(
        saisine=other, status=Orientation.Status.NO_ANSWER, flagged_at=timezone.now()
    )
    client.force_login(claire)
    for tab in ("new", "open", "flagged"):
        response = client.get(QUEUE, {"tab": tab})
        assert "S-SECRET-B" not in response.content.decode()
    counts = {item["code"]: item["count"] for item in response.context["tabs"]}
    assert counts["open"] == 1 and counts["flagged"] == 0


@pytest.mark.parametrize(
    "timestamps",
    [
        {},
        {"received": -3 * DAY},
        {"received": -3 * DAY, "first_response": -1 * DAY},  # answered late: overdue
        {"received": -1 * DAY, "first_response": -0.5 * DAY},
        {"received": -10 * DAY, "first_response": -9.5 * DAY},  # no decision after 7 days
        {"received": -10 * DAY, "first_response": -9.5 * DAY, "decided": -9 * DAY},
        {
            "received": -100 * DAY,
            "first_response": -99 * DAY,
            "decided": -98 * DAY,
            "closed": -1 * DAY,
            "status": Status.CLOSED,
        },
        {"received": -100 * DAY, "first_response": -99 * DAY, "decided": -98 * DAY},
        {"received": -3 * DAY, "closed": -2.9 * DAY, "status": Status.DECLINED},
    ],
)
def test_the_overdue_condition_agrees_with_the_selectors_flags(org_a, timestamps):
    now = timezone.now()

    def at(name):
        return now + timestamps[name] if name in timestamps else None

    saisine = SaisineFactory(
        organisation=org_a,
        received_at=at("received") or now,
        first_response_at=at("first_response"),
        decided_at=at("decided"),
        closed_at=at("closed"),
        status=timestamps.get("status", Status.RECEIVED),
        decline_reason="Hors territoire" if timestamps.get("status") == Status.DECLINED else "",
    )
    with scope(organisation=org_a):
        matched = Saisine.objects.filter(overdue_condition(now), pk=saisine.pk).exists()
    assert matched == saisine_delays(saisine, now=now)["any_overdue"]


def test_counts_come_from_one_query(org_a, claire, saisines):
    with CaptureQueriesContext(connection) as queries:
        counts = queue_counts(organisation=org_a, user=claire, filters={})
    assert len(queries.captured_queries) == 1
    assert counts["open"] == 6


@pytest.mark.parametrize(
    ("delta", "label"),
    [
        (datetime.timedelta(seconds=20), "moins d'une minute"),
        (datetime.timedelta(minutes=12), "12 min"),
        (datetime.timedelta(hours=3, minutes=5), "3 h 05"),
        (datetime.timedelta(days=2), "2 jours"),
        (datetime.timedelta(days=1), "1 jour"),
        (datetime.timedelta(days=3, hours=4), "3 j 4 h"),
        (None, ""),
    ],
)
def test_durations_read_in_french(delta, label):
    assert duration_label(delta) == label


def test_flagged_tab_matches_the_selector(org_a, claire, saisines):
    from parcours.saisines.selectors import orientations_flagged

    with scopes_disabled():
        flagged = {o.saisine.reference for o in orientations_flagged(organisation=org_a)}
    assert flagged == {"S-FLAG"}
