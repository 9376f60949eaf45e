"""Editing a person: an edit based on an older version is refused in French, never merged."""

import datetime
import html

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope

from parcours.people.services import person_update
from parcours.people.tests.helpers import events, people, person_form
from parcours.people.tests.people_factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(org_a):
    return PersonFactory(organisation=org_a, birth_name="Benali", first_names="Fatima Zohra")


def edit_url(person):
    return reverse("people:person-edit", args=[person.pk])


def test_an_edit_is_saved_audited_and_bumps_the_version(client, claire, person):
    client.force_login(claire)
    response = client.post(edit_url(person), person_form(version=1, birth_name="Benali-Saïd"))
    assert response.status_code == 302
    [saved] = people()
    assert (saved.birth_name, saved.version) == ("Benali-Saïd", 2)
    assert saved.match_key.startswith("benalisaid|fatima|")
    [update] = events(action="update", object_type="people.person")
    assert update.person_id == person.pk and "birth_name" in update.details["fields"]


def test_two_edits_of_the_same_version_never_overwrite_each_other(client, claire, hugo, person):
    client.force_login(claire)
    client.post(edit_url(person), person_form(version=1, address="Changé par Claire"))
    client.force_login(hugo)
    response = client.post(edit_url(person), person_form(version=1, address="Changé par Hugo"))
    assert response.status_code == 200
    assert "modifiée par quelqu'un d'autre" in html.unescape(response.content.decode())
    assert 'value="Changé par Hugo"' in response.content.decode()  # his typing is kept
    assert people()[0].address == "Changé par Claire"


def test_the_service_refuses_an_older_version(org_a, claire, person):
    with scope(organisation=org_a):
        person_update(person=person, version=1, by=claire, data={"address": "A"})
        with pytest.raises(ValidationError, match="modifiée par quelqu'un d'autre"):
            person_update(person=person, version=1, by=claire, data={"address": "B"})
    assert people()[0].address == "A"


def test_the_service_checks_the_nir_and_birth_date_too(org_a, claire, person):
    with scope(organisation=org_a), pytest.raises(ValidationError) as raised:
        person_update(
            person=person,
            version=1,
            by=claire,
            data={"nir": "255081416802539", "birth_date": datetime.date(2999, 1, 1)},
        )
    assert set(raised.value.message_dict) == {"nir", "birth_date"}
    assert "clé" in raised.value.message_dict["nir"][0]


def test_the_edit_form_shows_the_nir_grouped(client, claire, org_a):
    person = PersonFactory(organisation=org_a, nir="255081416802538")
    client.force_login(claire)
    assert 'value="2 55 08 14 168 025 38"' in client.get(edit_url(person)).content.decode()


def test_a_merged_record_is_edited_through_the_kept_one(client, claire, org_a, person):
    kept = PersonFactory(organisation=org_a)
    with scope(organisation=org_a):
        person.merged_into = kept
        person.save()
    client.force_login(claire)
    response = client.get(edit_url(person))
    assert response.status_code == 302 and response["Location"] == edit_url(kept)
    with scope(organisation=org_a), pytest.raises(ValidationError, match="fusionnée"):
        person_update(person=person, version=person.version, by=claire, data={"address": "X"})
