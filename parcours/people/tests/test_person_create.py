"""Creating a person: duplicates shown before creating, French errors, nothing lost."""

import pytest
from django.urls import reverse

from parcours.people.tests.helpers import events, people, person_form, valid_nir
from parcours.people.tests.people_factories import PersonFactory

pytestmark = pytest.mark.django_db

URL = reverse("people:person-create")


def test_it_creates_the_person_with_a_nir_typed_with_spaces(client, claire):
    client.force_login(claire)
    response = client.post(URL, person_form())
    [person] = people()
    assert response.status_code == 302 and response["Location"] == reverse(
        "people:person-detail", args=[person.pk]
    )
    assert len(person.nir) == 15 and " " not in person.nir
    assert person.match_key == "benali|fatima|1961-04-23|F"
    assert (str(person.phone.national_number), person.languages, person.ald) == (
        "612345678",
        ["arabe", "français"],
        ["8", "15"],
    )
    assert (person.ame, person.mutuelle, person.lives_alone) == (False, None, True)
    assert person.created_by == claire and person.version == 1
    [created] = events(action="create", object_type="people.person")
    assert created.person_id == person.pk and created.actor == claire
    assert "Benali" not in str(created.details)


def test_the_detail_page_shows_the_nir_grouped(client, claire):
    client.force_login(claire)
    client.post(URL, person_form())
    page = client.get(reverse("people:person-detail", args=[people()[0].pk]))
    assert valid_nir("2 61 04 99 352 017") in page.content.decode()


def test_possible_duplicates_are_shown_before_creating(client, claire, org_a):
    known = PersonFactory(
        organisation=org_a, birth_name="BENALI", first_names="Fatima", birth_date="1961-04-23"
    )
    client.force_login(claire)
    response = client.post(URL, person_form())
    assert response.status_code == 200
    assert [p.pk for p in response.context["duplicates"]] == [known.pk]
    html = response.content.decode()
    assert "peut-être déjà connue" in html and 'name="confirm_duplicates"' in html
    assert 'value="Fatima Zohra"' in html  # what was typed is kept
    assert len(people()) == 1
    assert events(action="read", person_id=known.pk)  # showing a duplicate is a read


def test_confirming_creates_the_person_anyway(client, claire, org_a):
    PersonFactory(
        organisation=org_a, birth_name="Benali", first_names="Fatima", birth_date="1961-04-23"
    )
    client.force_login(claire)
    response = client.post(URL, person_form(confirm_duplicates="on"))
    assert response.status_code == 302 and len(people()) == 2


def test_the_same_nir_is_shown_as_a_duplicate(client, claire, org_a):
    PersonFactory(
        organisation=org_a, birth_name="Autre", nir=valid_nir("2 61 04 99 352 017").replace(" ", "")
    )
    client.force_login(claire)
    response = client.post(URL, person_form())
    assert len(response.context["duplicates"]) == 1


def test_a_wrong_nir_key_is_refused_in_french_and_nothing_typed_is_lost(client, claire):
    client.force_login(claire)
    nir = valid_nir("2 61 04 99 352 017")
    wrong = nir[:-2] + f"{(int(nir[-2:]) % 97) + 1:02d}"
    response = client.post(URL, person_form(nir=wrong))
    assert response.status_code == 200 and people() == []
    assert "La clé du NIR" in str(response.context["form"].errors["nir"])
    html = response.content.decode()
    assert 'value="Fatima Zohra"' in html and "12 rue Gambetta" in html


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("birth_date", "2999-01-01", "dans le futur"),
        ("birth_date", "31/02/1961", "date valide"),
        ("birth_date", "1801-01-01", "trop ancienne"),
        ("birth_name", "X" * 101, "au plus 100"),
        ("first_names", "Y" * 201, "au plus 200"),
        ("address", "Z" * 301, "au plus 300"),
        ("nir", "1" * 31, "au plus 30"),
        ("nir", "12345", "15 caractères"),
        ("phone", "12", "numéro de téléphone"),
        ("birth_place_code", "6925", "5 caractères"),
        ("postal_code", "692", "5 chiffres"),
        ("ald", "8, 99", "ALD inconnu"),
        ("children_in_charge", "500", "inférieure ou égale à 30"),
        ("medecin_traitant_rpps", "123", "11 chiffres"),
        ("medecin_traitant_rpps", "10000000000", "Aucun professionnel"),
        ("sex", "Z", "choix valide"),
        ("birth_name", "", "obligatoire"),
        ("languages", "x" * 301, "300 au plus"),
    ],
)
def test_bad_input_gets_a_french_message_next_to_its_field(client, claire, field, value, message):
    client.force_login(claire)
    response = client.post(URL, person_form(**{field: value}))
    assert response.status_code == 200 and people() == []
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors, response.context["form"].errors


def test_odd_unicode_and_markup_are_stored_as_text(client, claire):
    client.force_login(claire)
    client.post(
        URL,
        person_form(birth_name="<script>alert(1)</script>", first_names="Zoë\u200b Ǆemal"),
    )
    [person] = people()
    page = client.get(reverse("people:person-detail", args=[person.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_a_medecin_traitant_from_the_directory_by_rpps(client, claire):
    from parcours.directory.tests.directory_factories import ProfessionalFactory

    gp = ProfessionalFactory(rpps="10101010101")
    client.force_login(claire)
    client.post(URL, person_form(medecin_traitant_rpps="101 0101 0101"))
    [person] = people()
    assert (person.medecin_traitant, person.medecin_traitant_status) == (gp, "known")
