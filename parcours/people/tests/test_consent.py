"""Consent: recorded with who, how and when; selectors refuse what it does not cover;
withdrawal takes effect at once."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from parcours.people.models import Consent
from parcours.people.selectors import ConsentRequired, person_get_for_user
from parcours.people.services import consent_covers, consent_record, consent_withdraw
from parcours.people.tests.helpers import consents, events
from parcours.people.tests.people_factories import ConsentFactory, PersonFactory

pytestmark = pytest.mark.django_db

HEALTH = [Consent.Category.HEALTH]


@pytest.fixture
def person(org_a):
    return PersonFactory(organisation=org_a)


def read(claire, org_a, person, **wanted):
    with scope(organisation=org_a):
        return person_get_for_user(
            user=claire, organisation=org_a, person_id=person.pk, purpose="orientation", **wanted
        )


def test_without_consent_a_read_for_a_purpose_is_refused(claire, org_a, person):
    with pytest.raises(ConsentRequired) as refused:
        read(claire, org_a, person)
    assert "consentement" in str(refused.value)
    assert not events(action="read", person_id=person.pk)


def test_a_consent_for_the_purpose_lets_the_read_through(claire, org_a, person):
    ConsentFactory(person=person, purpose="orientation", categories=["identity", "health"])
    assert read(claire, org_a, person, categories=HEALTH).pk == person.pk
    [event] = events(action="read", person_id=person.pk)
    assert event.details["purpose"] == "orientation" and event.details["categories"] == ["health"]


def test_a_consent_for_another_purpose_does_not_cover(claire, org_a, person):
    ConsentFactory(person=person, purpose="coordination")
    with pytest.raises(ConsentRequired):
        read(claire, org_a, person)


def test_a_team_consent_does_not_cover_sharing_outside_the_team(claire, org_a, person):
    ConsentFactory(person=person, purpose="orientation", scope="team")
    assert read(claire, org_a, person, scope="team")
    with pytest.raises(ConsentRequired):
        read(claire, org_a, person, scope="outside")


def test_an_outside_consent_covers_the_team_too(claire, org_a, person):
    ConsentFactory(person=person, purpose="orientation", scope="outside")
    assert read(claire, org_a, person, scope="outside")
    assert read(claire, org_a, person, scope="team")


def test_every_wanted_category_must_be_in_the_consent(claire, org_a, person):
    ConsentFactory(person=person, purpose="orientation", categories=["identity"])
    assert read(claire, org_a, person, categories=["identity"])
    with pytest.raises(ConsentRequired):
        read(claire, org_a, person, categories=["identity", "health"])


def test_withdrawal_takes_effect_at_once(claire, org_a, person):
    consent = ConsentFactory(person=person, purpose="orientation")
    assert read(claire, org_a, person)
    with scope(organisation=org_a):
        consent_withdraw(consent=consent, by=claire)
    with pytest.raises(ConsentRequired):
        read(claire, org_a, person)
    [withdrawn] = consents()
    assert withdrawn.withdrawn_by == claire and withdrawn.withdrawn_at is not None


def test_withdrawing_from_the_page_is_a_post_and_is_audited(client, claire, org_a, person):
    consent = ConsentFactory(person=person, purpose="orientation")
    url = reverse("people:consent-withdraw", args=[person.pk, consent.pk])
    client.force_login(claire)
    assert client.get(url).status_code == 405 and consents()[0].withdrawn_at is None
    response = client.post(url)
    assert response.status_code == 302
    assert consents()[0].withdrawn_at is not None
    [event] = [e for e in events(action="update") if e.details.get("withdrawn")]
    assert event.person_id == person.pk and event.actor == claire
    with pytest.raises(ConsentRequired):
        read(claire, org_a, person)
    client.post(url)  # twice: still withdrawn, the first date kept
    assert len([e for e in events(action="update") if e.details.get("withdrawn")]) == 1


def test_recording_from_the_page(client, claire, person):
    client.force_login(claire)
    response = client.post(
        reverse("people:consent-create", args=[person.pk]),
        {
            "purpose": "orientation",
            "scope": "outside",
            "categories": ["identity", "social"],
            "method": "oral",
            "collected_at": "2026-01-05T10:30",
            "collected_by_name": "",
        },
    )
    assert response.status_code == 302
    [consent] = consents()
    assert (consent.scope, consent.categories, consent.collected_by) == (
        "outside",
        ["identity", "social"],
        claire,
    )
    [event] = events(action="create", object_type="people.consent")
    assert event.person_id == person.pk


def test_a_consent_collected_by_a_requester_without_an_account(org_a, person):
    with scope(organisation=org_a):
        consent = consent_record(
            person=person,
            purpose="coordination",
            scope="team",
            categories=["identity"],
            method="professional",
            by_name="Dr Leroy, médecin traitant",
        )
    assert (consent.collected_by, consent.collected_by_name) == (None, "Dr Leroy, médecin traitant")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"categories": []}, "categories"),
        ({"categories": ["dna"]}, "categories"),
        ({"by": None, "by_name": "  "}, "collected_by_name"),
        ({"at": timezone.now() + datetime.timedelta(days=2)}, "collected_at"),
        ({"purpose": "marketing"}, "purpose"),
        ({"scope": "world"}, "scope"),
    ],
)
def test_a_bad_consent_is_refused_in_french(org_a, claire, person, change, field):
    arguments = {
        "person": person,
        "purpose": "coordination",
        "scope": "team",
        "categories": ["identity"],
        "method": "oral",
        "by": claire,
    }
    arguments.update(change)
    with scope(organisation=org_a), pytest.raises(ValidationError) as refused:
        consent_record(**arguments)
    assert field in refused.value.message_dict
    assert consents() == []


def test_the_consent_page_gives_french_errors(client, claire, person):
    client.force_login(claire)
    response = client.post(
        reverse("people:consent-create", args=[person.pk]),
        {"purpose": "x", "scope": "team", "method": "oral", "collected_at": "demain"},
    )
    errors = response.context["form"].errors
    assert response.status_code == 200 and consents() == []
    assert "Choisissez au moins une catégorie" in errors["categories"][0]
    assert "date et une heure valides" in errors["collected_at"][0]
    assert "choix valide" in errors["purpose"][0]


def test_consent_covers_reads_the_records_merged_into_the_person(org_a, claire, person):
    merged = PersonFactory(organisation=org_a)
    ConsentFactory(person=merged, purpose="mt_search")
    with scope(organisation=org_a):
        assert not consent_covers(person=person, purpose="mt_search")
        merged.merged_into = person
        merged.save()
        assert consent_covers(person=person, purpose="mt_search", categories=["cover"])
