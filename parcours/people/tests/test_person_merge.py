"""Merging two records: the merged one stays, points to the kept one, both histories stay
readable, and the merge is audited with both ids."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope

from parcours.people.services import consent_covers, person_merge
from parcours.people.tests.helpers import consents, events, people
from parcours.people.tests.people_factories import ConsentFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(org_a):
    kept = PersonFactory(
        organisation=org_a,
        birth_name="Durand",
        first_names="Paul",
        birth_date="1940-01-01",
        sex="M",
    )
    twin = PersonFactory(
        organisation=org_a,
        birth_name="DURAND",
        first_names="Paul Henri",
        birth_date="1940-01-01",
        sex="M",
        address="Ancienne adresse",
    )
    return kept, twin


def confirm_url(person, other):
    return reverse("people:person-merge-confirm", args=[person.pk, other.pk])


def test_the_merge_page_offers_the_possible_duplicates(client, claire, pair):
    kept, twin = pair
    client.force_login(claire)
    page = client.get(reverse("people:person-merge", args=[kept.pk]))
    assert [p.pk for p in page.context["duplicates"]] == [twin.pk]
    assert confirm_url(kept, twin) in page.content.decode()


def test_the_merge_page_searches_without_the_name_in_the_url(client, claire, org_a, pair):
    kept, _twin = pair
    other = PersonFactory(organisation=org_a, birth_name="Tartempion", first_names="Léa")
    client.force_login(claire)
    page = client.post(reverse("people:person-merge", args=[kept.pk]), {"q": "tartempion"})
    assert [p.pk for p in page.context["found"]] == [other.pk]


def test_confirming_shows_both_records_and_changes_nothing(client, claire, pair):
    kept, twin = pair
    client.force_login(claire)
    page = client.get(confirm_url(kept, twin))
    assert page.status_code == 200 and "Ancienne adresse" in page.content.decode()
    assert all(person.merged_into_id is None for person in people())


def test_merging_keeps_both_records_and_audits_both_ids(client, claire, pair):
    kept, twin = pair
    consent = ConsentFactory(person=twin)
    client.force_login(claire)
    response = client.post(confirm_url(kept, twin), {"keep": str(kept.pk)})
    assert response.status_code == 302
    assert response["Location"] == reverse("people:person-detail", args=[kept.pk])
    stored = {person.pk: person for person in people()}
    assert stored[twin.pk].merged_into_id == kept.pk and stored[kept.pk].merged_into_id is None
    assert stored[twin.pk].address == "Ancienne adresse"  # nothing overwritten nor deleted
    assert [c.person_id for c in consents()] == [twin.pk]  # rows keep pointing at the twin
    merges = [e for e in events(action="update") if "merge" in e.details]
    assert {e.person_id for e in merges} == {kept.pk, twin.pk}
    assert all(e.details["merge"] == {"kept": kept.pk, "merged": twin.pk} for e in merges)
    assert all(e.actor == claire for e in merges)
    assert consent.pk


def test_the_other_record_may_be_the_one_kept(client, claire, pair):
    kept, twin = pair
    client.force_login(claire)
    client.post(confirm_url(kept, twin), {"keep": str(twin.pk)})
    stored = {person.pk: person for person in people()}
    assert stored[kept.pk].merged_into_id == twin.pk


def test_both_histories_stay_readable_from_the_kept_record(client, claire, org_a, pair):
    kept, twin = pair
    consent = ConsentFactory(person=twin)
    with scope(organisation=org_a):
        person_merge(keep=kept, merged=twin, by=claire)
    client.force_login(claire)
    page = client.get(reverse("people:person-detail", args=[kept.pk]))
    assert [p.pk for p in page.context["file"].merged_records] == [twin.pk]
    assert [c.pk for c in page.context["file"].consents] == [consent.pk]
    assert "Ancienne adresse" in page.content.decode()
    assert events(action="read", person_id=twin.pk)  # reading it is audited under its id
    with scope(organisation=org_a):
        assert consent_covers(person=kept, purpose="coordination", categories=["health"])


def test_the_merged_record_opens_the_kept_one(client, claire, org_a, pair):
    kept, twin = pair
    with scope(organisation=org_a):
        person_merge(keep=kept, merged=twin, by=claire)
    client.force_login(claire)
    page = client.get(reverse("people:person-detail", args=[twin.pk]))
    assert page.context["person"].pk == kept.pk
    assert "a été fusionnée dans la fiche" in page.content.decode()


def test_the_list_and_duplicates_leave_merged_records_out(client, claire, org_a, pair):
    kept, twin = pair
    with scope(organisation=org_a):
        person_merge(keep=kept, merged=twin, by=claire)
    client.force_login(claire)
    listing = client.get(reverse("people:person-list"))
    assert [p.pk for p in listing.context["page"].object_list] == [kept.pk]


def test_a_record_cannot_be_merged_twice_nor_into_a_merged_one(org_a, claire, pair):
    kept, twin = pair
    third = PersonFactory(organisation=org_a)
    with scope(organisation=org_a):
        person_merge(keep=kept, merged=twin, by=claire)
        with pytest.raises(ValidationError, match="déjà été fusionnée"):
            person_merge(keep=third, merged=twin, by=claire)
        with pytest.raises(ValidationError, match="conserver a elle-même été fusionnée"):
            person_merge(keep=twin, merged=third, by=claire)
        with pytest.raises(ValidationError, match="deux fiches différentes"):
            person_merge(keep=kept, merged=kept, by=claire)


def test_merging_a_record_with_its_own_kept_record_is_refused_without_error(
    client, claire, org_a, pair
):
    kept, twin = pair
    with scope(organisation=org_a):
        person_merge(keep=kept, merged=twin, by=claire)
    client.force_login(claire)
    response = client.post(confirm_url(kept, twin), {"keep": str(kept.pk)}, follow=True)
    assert response.status_code == 200 and "déjà la même personne" in response.content.decode()


def test_a_keep_choice_outside_the_two_records_is_refused(client, claire, org_a, pair):
    kept, twin = pair
    third = PersonFactory(organisation=org_a)
    client.force_login(claire)
    response = client.post(confirm_url(kept, twin), {"keep": str(third.pk)})
    assert response.status_code == 200 and response.context["form"].errors["keep"]
    assert all(person.merged_into_id is None for person in people())


def test_a_record_of_another_organisation_cannot_be_merged(org_a, org_b, claire, pair):
    kept, _twin = pair
    foreign = PersonFactory(organisation=org_b)
    with scope(organisation=org_a), pytest.raises(ValidationError, match="même organisation"):
        person_merge(keep=kept, merged=foreign, by=claire)
