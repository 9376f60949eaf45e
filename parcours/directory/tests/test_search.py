"""The same corpus, the same answers on SQLite and PostgreSQL (the suite runs on both)."""

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from parcours.directory.models import (
    PracticeSituation,
    Professional,
    SearchEntry,
    Service,
    Structure,
)
from parcours.directory.search import (
    SearchQuery,
    directory_search,
    search_index_rebuild,
    search_index_refresh,
)
from parcours.territory.models import Commune

pytestmark = pytest.mark.django_db

PEOPLE = [  # rpps, first, last, profession code, profession, savoir-faire, commune, mode
    ("10000000001", "Amélie", "Durand", "10", "Médecin", "Médecine générale", "69259", "L"),
    ("10000000002", "Éric", "Dupont", "10", "Médecin", "Médecine générale", "69199", "L"),
    ("10000000003", "Chloé", "Martin", "70", "Masseur-Kinésithérapeute", "", "69259", "L"),
    ("10000000004", "Noël", "Lefèvre", "70", "Masseur-Kinésithérapeute", "", "69388", "S"),
    ("10000000005", "Zoé", "Kinet", "60", "Infirmier", "", "69259", "L"),
    ("10000000006", "Jean-Marc", "Œuvray", "21", "Pharmacien", "", "69199", "S"),
]


@pytest.fixture
def corpus(org_a, org_b):
    communes = {
        insee: Commune.objects.create(insee=insee, name=name, departement="69", region="84")
        for insee, name in (
            ("69259", "Vénissieux"),
            ("69199", "Saint-Fons"),
            ("69388", "Lyon 8e Arrondissement"),
        )
    }
    for rpps, first, last, code, profession, savoir, insee, mode in PEOPLE:
        person = Professional.objects.create(
            rpps=rpps,
            first_name=first,
            last_name=last,
            profession_code=code,
            profession=profession,
            savoir_faire=savoir,
            source="rpps",
        )
        PracticeSituation.objects.create(
            professional=person, source_key=rpps, mode=mode, commune=communes[insee], source="rpps"
        )
    Structure.objects.create(
        name="Centre Hospitalier Saint-Joseph",
        category="Centre hospitalier",
        category_code="355",
        commune=communes["69259"],
        source="finess",
    )
    with scopes_disabled():
        Service.objects.create(
            organisation=org_a,
            name="CCAS de Vénissieux",
            category="CCAS",
            circle="rights",
            commune=communes["69259"],
            source="manual",
        )
        Service.objects.create(
            organisation=org_b,
            name="CCAS secret de B",
            category="CCAS",
            circle="rights",
            commune=communes["69259"],
            source="manual",
        )
    search_index_rebuild()


def titles(result):
    return [entry.title for entry in result.page]


def search(org=None, **fields):
    return directory_search(query=SearchQuery(**fields), organisation=org)


def test_it_is_case_and_accent_insensitive(corpus):
    assert titles(search(q="AMELIE")) == ["Amélie Durand"]
    assert titles(search(q="lefevre")) == ["Noël Lefèvre"]
    assert titles(search(q="oeuvray")) == ["Jean-Marc Œuvray"]


def test_it_matches_word_prefixes_and_needs_every_word(corpus):
    assert titles(search(q="kiné")) == ["Zoé Kinet", "Noël Lefèvre", "Chloé Martin"]
    assert titles(search(q="kiné vénissieux")) == ["Zoé Kinet", "Chloé Martin"]
    assert titles(search(q="médecin saint fons")) == ["Éric Dupont"]


def test_it_filters_and_counts_facets(corpus):
    result = search(q="", profession_code="70")
    assert titles(result) == ["Noël Lefèvre", "Chloé Martin"]
    assert dict(result.facets["mode"]) == {"L": 1, "S": 1}
    everything = search()
    assert dict(everything.facets["kind"]) == {"professional": 6, "structure": 1}
    assert dict(search(commune="69199").facets["profession_code"]) == {"10": 1, "21": 1}


def test_services_are_seen_by_their_organisation_only(corpus, org_a, org_b):
    assert titles(search(org_a, q="ccas")) == ["CCAS de Vénissieux"]
    assert titles(search(org_b, q="ccas")) == ["CCAS secret de B"]
    assert titles(search(None, q="ccas")) == []


def test_it_pages_in_a_stable_order(corpus):
    first = directory_search(query=SearchQuery(), page_size=4)
    second = directory_search(query=SearchQuery(page=2), page_size=4)
    assert len(first.page) == 4 and len(second.page) == 3
    assert not set(titles(first)) & set(titles(second))


def test_one_letter_words_and_symbols_are_harmless(corpus):
    assert len(search(q="a").page.object_list) == 7
    assert titles(search(q='"* - ( durand:')) == ["Amélie Durand"]
    assert titles(search(q="zzzz")) == []


def test_refreshing_some_entries_keeps_the_index_in_step(corpus):
    Professional.objects.filter(rpps="10000000001").update(last_name="Durand-Bernard")
    situation = PracticeSituation.objects.get(source_key="10000000001")
    search_index_refresh(kind="professional", ids=[situation.pk])
    assert titles(search(q="bernard")) == ["Amélie Durand-Bernard"]
    assert SearchEntry.objects.filter(kind="professional").count() == 6


def test_the_fulltext_index_exists_after_all_migrations(db):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master"
                " WHERE type='trigger' AND name LIKE 'directory_search_%'"
            )
            assert len(cursor.fetchall()) == 3
        else:
            cursor.execute(
                "SELECT 1 FROM pg_indexes WHERE indexname = 'directory_searchentry_search_vector'"
            )
            assert cursor.fetchone()


def test_it_forgives_one_typo_in_long_words(corpus):
    assert titles(search(q="kinésitérapeute")) == ["Noël Lefèvre", "Chloé Martin"]  # missing h
    assert titles(search(q="venissieus")) != []  # substitution
    assert titles(search(q="durnad")) == ["Amélie Durand"]  # transposition
    assert titles(search(q="lefevrre")) == ["Noël Lefèvre"]  # insertion


def test_it_does_not_guess_for_short_words_or_two_typos(corpus):
    assert titles(search(q="drnad")) == []  # five letters but two edits from "durand"
    assert titles(search(q="mrtn")) == []  # short word: no typo tolerance


CENTRES = {"69259": (45.6978, 4.8867), "69199": (45.7053, 4.8558), "69388": (45.7350, 4.8690)}


@pytest.fixture
def located(corpus):
    for insee, (lat, lon) in CENTRES.items():
        Commune.objects.filter(insee=insee).update(latitude=lat, longitude=lon)
        PracticeSituation.objects.filter(commune_id=insee).update(latitude=lat, longitude=lon)
    search_index_rebuild()


def test_it_searches_near_a_commune_nearest_first(located):
    result = search(q="médecin", near_commune="69199", radius_km=5)
    assert titles(result) == ["Éric Dupont", "Amélie Durand"]
    assert [entry.distance_km for entry in result.page] == [0.0, pytest.approx(2.52, abs=0.05)]


def test_the_radius_leaves_farther_entries_out(located):
    assert titles(search(q="kiné", near_commune="69259", radius_km=1)) == [
        "Zoé Kinet",
        "Chloé Martin",
    ]
    assert titles(search(q="kiné", near_commune="69259", radius_km=5)) == [
        "Zoé Kinet",
        "Chloé Martin",
        "Noël Lefèvre",
    ]


def test_an_unknown_commune_means_no_distance(located):
    result = search(q="kiné", near_commune="99999")
    assert result.origin is None and len(result.page) == 3
