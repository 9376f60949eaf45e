"""Every read of a person goes through the selectors, which write the audit READ event."""

import pytest
from django.http import Http404
from django.urls import reverse
from django_scopes import scope

from parcours.core.tests.test_templates import assert_csp_safe_and_skippable, parse
from parcours.people.selectors import person_get_for_user, person_search
from parcours.people.tests.helpers import events
from parcours.people.tests.people_factories import ConsentFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def odile(org_a):
    return PersonFactory(
        organisation=org_a,
        birth_name="Lefèvre",
        used_name="Roux",
        first_names="Odile Marthe",
        birth_date="1950-05-05",
        nir="250056938812345",
    )


def test_reading_a_person_writes_a_read_event_with_the_person_id(claire, org_a, odile):
    with scope(organisation=org_a):
        person = person_get_for_user(user=claire, organisation=org_a, person_id=odile.pk)
    assert person == odile
    [event] = events(action="read")
    assert (event.person_id, event.actor, event.organisation, event.object_type) == (
        odile.pk,
        claire,
        org_a,
        "people.person",
    )
    assert "Lefèvre" not in str(event.details)


def test_another_organisation_or_an_unknown_id_is_404(bruno, org_b, odile):
    with scope(organisation=org_b), pytest.raises(Http404):
        person_get_for_user(user=bruno, organisation=org_b, person_id=odile.pk)
    with scope(organisation=org_b), pytest.raises(Http404):
        person_get_for_user(user=bruno, organisation=org_b, person_id=987654)
    assert events(action="read") == []


def test_the_detail_page_is_audited(client, claire, odile):
    client.force_login(claire)
    client.get(reverse("people:person-detail", args=[odile.pk]))
    assert [e.person_id for e in events(action="read")] == [odile.pk]


def test_the_list_audits_the_ids_shown_never_the_query(client, claire, org_a, odile):
    other = PersonFactory(organisation=org_a, birth_name="Zidane", first_names="Yazid")
    client.force_login(claire)
    client.get(reverse("people:person-list"))
    client.post(reverse("people:person-list"), {"q": "lefevre"})
    listing, search = events(action="read")
    assert listing.details == {"list": "all", "ids": [odile.pk, other.pk]}
    assert search.details == {"list": "search", "ids": [odile.pk]}
    assert "lefevre" not in str(search.details).lower()


@pytest.mark.parametrize(
    "q",
    ["lefevre", "LEFÈVRE odile", "Roux", "odile", "marthe", "05/05/1950", "2 50 05 69", "Lef"],
)
def test_the_search_finds_by_name_first_name_birth_date_or_nir(claire, org_a, odile, q):
    PersonFactory(organisation=org_a, birth_name="Zidane", first_names="Yazid")
    with scope(organisation=org_a):
        page = person_search(user=claire, organisation=org_a, q=q)
    assert [p.pk for p in page.object_list] == [odile.pk]


@pytest.mark.parametrize("q", ["31/02/1950", "x" * 100, "%", "' OR 1=1 --", "\u0000"])
def test_odd_searches_find_nothing_and_never_fail(client, claire, odile, q):
    client.force_login(claire)
    response = client.post(reverse("people:person-list"), {"q": q})
    assert response.status_code == 200


def test_an_oversized_search_gets_a_french_message(client, claire, odile):
    client.force_login(claire)
    response = client.post(reverse("people:person-list"), {"q": "x" * 101})
    assert response.status_code == 200 and "au plus 100" in str(response.context["form"].errors)


def test_the_search_stays_out_of_the_url(client, claire, odile):
    client.force_login(claire)
    page = client.get(reverse("people:person-list"), {"q": "lefevre", "page": "1"})
    # A query in the URL is ignored: the form is posted.
    assert page.context["q"] == "" and 'method="post"' in page.content.decode()


@pytest.mark.parametrize(
    "name, args",
    [
        ("people:person-list", []),
        ("people:person-create", []),
        ("people:person-detail", ["person"]),
        ("people:person-edit", ["person"]),
        ("people:person-merge", ["person"]),
        ("people:consent-create", ["person"]),
    ],
)
def test_the_pages_keep_to_the_csp_and_label_their_inputs(client, claire, odile, name, args):
    ConsentFactory(person=odile)
    client.force_login(claire)
    page = parse(client.get(reverse(name, args=[odile.pk for _ in args])))
    assert_csp_safe_and_skippable(page)
    for field in page.inputs:
        if field.get("type") not in ("hidden", "submit", "radio", "checkbox"):
            assert field.get("id") in page.label_fors, field


def test_the_merge_confirmation_keeps_to_the_csp(client, claire, org_a, odile):
    other = PersonFactory(organisation=org_a)
    client.force_login(claire)
    url = reverse("people:person-merge-confirm", args=[odile.pk, other.pk])
    assert_csp_safe_and_skippable(parse(client.get(url)))


def test_a_manager_never_sees_a_person(client, manon, odile):
    client.force_login(manon)
    assert client.get(reverse("people:person-detail", args=[odile.pk])).status_code == 403
    assert events(action="read") == []
