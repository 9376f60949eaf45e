import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from parcours.audit.models import Action, AuditEvent
from parcours.audit.services import audit_log

URL = reverse("audit:event-list")


def at_paris(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def listed_ids(response) -> set[int]:
    return {event.pk for event in response.context["page_obj"]}


@pytest.fixture
def events(org_a, org_b, claire, hugo, bruno):
    """Claire read person 7, Hugo updated person 8, Bruno (org B) read person 7."""
    return {
        "claire_reads_7": audit_log(
            action=Action.READ,
            actor=claire,
            organisation=org_a,
            object_type="people.person",
            object_id=7,
            person_id=7,
        ),
        "hugo_updates_8": audit_log(
            action=Action.UPDATE,
            actor=hugo,
            organisation=org_a,
            object_type="people.person",
            object_id=8,
            person_id=8,
            details={"fields": ["phone"]},
        ),
        "bruno_reads_7": audit_log(
            action=Action.READ,
            actor=bruno,
            organisation=org_b,
            object_type="people.person",
            object_id=7,
            person_id=7,
        ),
    }


def test_it_lists_the_organisations_events_newest_first(client, alain, events):
    client.force_login(alain)

    response = client.get(URL)

    assert response.status_code == 200
    listed = [event.pk for event in response.context["page_obj"]]
    login = AuditEvent.objects.get(action=Action.LOGIN, actor=alain)  # logins are listed too
    assert listed == [login.pk, events["hugo_updates_8"].pk, events["claire_reads_7"].pk]
    assert "fields=[&quot;phone&quot;]" in response.content.decode()


def test_it_never_lists_another_organisations_events(client, alain, events):
    client.force_login(alain)

    response = client.get(URL, {"person": 7})

    assert listed_ids(response) == {events["claire_reads_7"].pk}
    assert events["bruno_reads_7"].pk not in listed_ids(client.get(URL))


def test_it_filters_by_person(client, alain, events):
    client.force_login(alain)

    response = client.get(URL, {"person": 8})

    assert listed_ids(response) == {events["hugo_updates_8"].pk}


def test_it_filters_by_user_and_shows_their_name(client, alain, claire, events):
    client.force_login(alain)

    response = client.get(URL, {"actor": claire.pk})

    assert listed_ids(response) == {events["claire_reads_7"].pk}
    assert claire.get_full_name() in response.content.decode()


def test_it_offers_only_the_organisations_members(client, alain, claire, bruno, events):
    client.force_login(alain)

    choices = dict(client.get(URL).context["form"].fields["actor"].choices)

    assert claire.pk in choices and bruno.pk not in choices
    response = client.get(URL, {"actor": bruno.pk})
    assert "actor" in response.context["form"].errors


def test_it_filters_by_action(client, alain, events):
    client.force_login(alain)

    response = client.get(URL, {"action": "update"})

    assert listed_ids(response) == {events["hugo_updates_8"].pk}


def test_it_filters_by_period_in_french_dates(client, alain, org_a, monkeypatch):
    def event_on(day):
        monkeypatch.setattr(timezone, "now", lambda: at_paris(day))
        return audit_log(action=Action.READ, organisation=org_a, person_id=1)

    before = event_on(datetime.date(2026, 3, 9))
    first_day = event_on(datetime.date(2026, 3, 10))
    last_day = event_on(datetime.date(2026, 3, 12))
    after = event_on(datetime.date(2026, 3, 13))
    monkeypatch.undo()
    client.force_login(alain)

    response = client.get(URL, {"date_from": "10/03/2026", "date_to": "12/03/2026"})

    assert listed_ids(response) == {first_day.pk, last_day.pk}
    assert {before.pk, after.pk}.isdisjoint(listed_ids(response))
    iso = client.get(URL, {"date_from": "2026-03-10", "date_to": "2026-03-10"})
    assert listed_ids(iso) == {first_day.pk}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"person": "abc"}, "Saisissez un nombre entier."),
        ({"date_from": "31/02/2026"}, "Saisissez une date valide."),
        ({"action": "hack"}, "Sélectionnez un choix valide."),
        (
            {"date_from": "12/03/2026", "date_to": "10/03/2026"},
            "La date de fin doit être postérieure à la date de début.",
        ),
    ],
)
def test_it_explains_bad_filters_in_french(client, alain, events, params, message):
    client.force_login(alain)

    response = client.get(URL, params)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["page_obj"] is None


def test_it_paginates_by_fifty(client, alain, org_a):
    for _ in range(50):
        audit_log(action=Action.READ, organisation=org_a)
    client.force_login(alain)  # the 51st event: alain's login

    first, second = client.get(URL), client.get(URL, {"page": 2})

    assert len(first.context["page_obj"]) == 50
    assert len(second.context["page_obj"]) == 1


def test_it_writes_no_event_when_listed(client, alain, events):
    client.force_login(alain)
    before = AuditEvent.objects.count()

    client.get(URL)

    assert AuditEvent.objects.count() == before


def test_it_names_object_types_in_french(client, alain, claire):
    client.force_login(alain)
    page = client.get(URL, {"action": "login"}).content.decode()
    assert "utilisateur" in page and "accounts.user" not in page
