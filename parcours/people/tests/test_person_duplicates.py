"""Duplicate detection: folded names + first name + birth date + sex, name swaps, exact NIR."""

import datetime

import pytest
from django_scopes import scope

from parcours.people.services import person_duplicates, person_match_key
from parcours.people.tests.people_factories import PersonFactory

pytestmark = pytest.mark.django_db

BORN = datetime.date(1948, 11, 2)


def identity(**overrides):
    data = {
        "birth_name": "Lefèvre",
        "used_name": "",
        "first_names": "Marie-Hélène Jeanne",
        "birth_date": BORN,
        "sex": "F",
        "nir": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def marie(org_a):
    return PersonFactory(organisation=org_a, **identity(used_name="Martin"))


def found(org, **overrides):
    with scope(organisation=org):
        duplicates = person_duplicates(organisation=org, data=identity(**overrides))
    return [person.pk for person in duplicates]


@pytest.mark.parametrize(
    "birth_name, first_names",
    [
        ("LEFEVRE", "MARIE-HELENE"),
        ("lefèvre", "marie-hélène"),
        ("Le Fèvre", "Marie-Hélène Anne"),
        ("Le-Fevre", "Marie-Hélène, Jeanne"),
        (" Lefevre ", "  Marie-Helene  "),
        ("Lefevre", "Marie Hélène"),
        ("Lefevre", "Marie"),
    ],
)
def test_it_finds_the_same_person_whatever_the_accents_case_spaces_or_hyphens(
    org_a, marie, birth_name, first_names
):
    assert found(org_a, birth_name=birth_name, first_names=first_names) == [marie.pk]


def test_the_match_key_folds_names():
    assert person_match_key(
        birth_name="Lefèvre", first_names="Marie-Hélène Jeanne", birth_date=BORN, sex="F"
    ) == person_match_key(
        birth_name="LE FEVRE", first_names="marie-helene", birth_date=BORN, sex="F"
    )


def test_it_finds_birth_and_used_names_swapped(org_a, marie):
    assert found(org_a, birth_name="Martin", used_name="Lefèvre") == [marie.pk]
    assert found(org_a, birth_name="MARTIN") == [marie.pk]  # used name typed as birth name


def test_a_swap_needs_the_same_first_name_and_birth_date(org_a, marie):
    assert found(org_a, birth_name="Martin", first_names="Jeanne") == []
    assert found(org_a, birth_name="Martin", birth_date=BORN.replace(year=1949)) == []


def test_other_birth_date_sex_or_first_name_is_another_person(org_a, marie):
    assert found(org_a, birth_date=datetime.date(1948, 11, 3)) == []
    assert found(org_a, sex="M") == []
    assert found(org_a, first_names="Jeanne Marie-Hélène") == []
    assert found(org_a, first_names="Marielle") == []


def test_an_unknown_sex_does_not_hide_a_duplicate(org_a, marie):
    assert found(org_a, sex="I") == [marie.pk]


def test_the_same_nir_is_a_duplicate_whatever_the_names(org_a):
    nir = "2 55 08 14 168 025 38"
    same = PersonFactory(organisation=org_a, birth_name="Autre", nir="255081416802538")
    assert found(org_a, birth_name="Rien", first_names="Personne", nir=nir) == [same.pk]


def test_merged_records_are_left_out(org_a, marie):
    kept = PersonFactory(organisation=org_a, birth_name="Zola", first_names="Émile")
    with_merged = PersonFactory(organisation=org_a, **identity())
    with scope(organisation=org_a):
        with_merged.merged_into = kept
        with_merged.save()  # set-up: the merge itself is tested in test_person_merge
    assert found(org_a) == [marie.pk]


def test_another_organisation_is_never_searched(org_a, org_b, marie):
    assert found(org_b) == []


def test_the_record_being_edited_is_not_its_own_duplicate(org_a, marie):
    with scope(organisation=org_a):
        assert person_duplicates(organisation=org_a, data=identity(), exclude=marie) == []


def test_an_identity_without_birth_date_only_matches_the_same_key(org_a, marie):
    nobody = PersonFactory(
        organisation=org_a, birth_date=None, birth_name="Sans", first_names="Date"
    )
    assert found(org_a, birth_date=None, birth_name="Sans", first_names="Date") == [nobody.pk]
