"""Accepting new patients and languages spoken: filters and facets of the search selector
(same answers on SQLite and PostgreSQL); the map shares the list's radius."""

import datetime

import pytest
from django_scopes import scopes_disabled

from parcours.directory import search as search_module
from parcours.directory.models import Availability
from parcours.directory.search import SearchQuery, directory_map, directory_search

from .annuaire_corpus import annuaire_corpus

pytestmark = pytest.mark.django_db

FRANCE = (-5.0, 41.0, 10.0, 51.0)


@pytest.fixture
def corpus(org_a, org_b):
    return annuaire_corpus(org_a, org_b)


def search(organisation=None, **fields):
    return directory_search(query=SearchQuery(**fields), organisation=organisation)


def titles(result) -> list[str]:
    return [entry.title for entry in result.page]


def test_it_filters_gps_by_what_they_declared_to_the_organisation(corpus, org_a):
    assert titles(search(org_a, profession_code="10", accepting="now")) == ["Amélie Durand"]
    assert titles(search(org_a, profession_code="10", accepting="within_6_months")) == [
        "Éric Dupont"
    ]
    assert titles(search(org_a, accepting="no")) == ["Hélène Bernard"]


def test_expired_declarations_and_other_organisations_do_not_count(corpus, org_a, org_b):
    assert "Louis Petit" not in titles(search(org_a, accepting="now"))  # expired yesterday
    assert "Sophie Moreau" not in titles(search(org_a, accepting="now"))  # declared to B
    assert titles(search(org_b, accepting="now")) == ["Sophie Moreau"]


def test_a_declaration_expiring_today_still_counts(corpus, org_a):
    with scopes_disabled():
        Availability.objects.filter(professional=corpus.people["Petit"].professional).update(
            expires_on=datetime.date.today()
        )
    assert titles(search(org_a, accepting="now")) == ["Amélie Durand", "Louis Petit"]


def test_without_an_organisation_there_is_no_accepting_filter_or_facet(corpus):
    result = search(None, profession_code="10", accepting="now")
    assert len(titles(result)) == 6
    assert "accepting" not in result.facets


def test_it_counts_gps_per_answer(corpus, org_a):
    result = search(org_a, profession_code="10")
    assert result.facets["accepting"] == [("no", 1), ("now", 1), ("within_6_months", 1)]


def test_the_accepting_facet_follows_the_other_filters(corpus, org_a):
    result = search(org_a, q="vénissieux", profession_code="10")
    assert titles(result) == ["Hélène Bernard", "Amélie Durand", "Julien Laurent"]
    assert result.facets["accepting"] == [("no", 1), ("now", 1)]
    near = search(org_a, near_commune="69259", radius_km=2, accepting="now")
    assert titles(near) == ["Amélie Durand"]
    assert near.facets["accepting"] == [("now", 1)]


def test_it_counts_languages_spoken(corpus, org_a):
    assert search().facets["language"] == [("fr", 12), ("ar", 1), ("en", 1)]
    # Organisation A also finds its service (French and Arabic).
    assert search(org_a).facets["language"] == [("fr", 13), ("ar", 2), ("en", 1)]


def test_the_language_facet_follows_words_filters_and_distance(corpus):
    result = search(q="kiné", near_commune="69259", radius_km=10)
    assert result.facets["language"] == [("fr", 5), ("en", 1)]
    assert search(q="zzzz").facets["language"] == []


def test_each_language_count_is_what_its_filter_finds(corpus, org_a):
    for language, count in search(org_a).facets["language"]:
        assert search(org_a, language=language).page.paginator.count == count


def test_the_map_keeps_to_the_radius_of_the_list(corpus):
    query = SearchQuery(q="kiné", near_commune="69259", radius_km=4)
    answer = directory_map(query=query, bbox=FRANCE)
    assert sorted(point["name"] for point in answer["points"]) == [
        "Chloé Martin",
        "Noël Lefèvre",
        "Rémi Garnier",
    ]
    assert {entry.title for entry in directory_search(query=query).page} == {
        point["name"] for point in answer["points"]
    }


def test_clusters_keep_to_the_radius_too(corpus, monkeypatch):
    monkeypatch.setattr(search_module, "MAP_MAX_POINTS", 1)
    query = SearchQuery(q="kiné", near_commune="69259", radius_km=4)
    answer = directory_map(query=query, bbox=FRANCE)
    assert answer["total"] == 3 and answer["points"] == []
    assert sum(cluster["count"] for cluster in answer["clusters"]) == 3


def test_the_map_filters_on_accepting_as_the_list_does(corpus, org_a):
    answer = directory_map(query=SearchQuery(accepting="now"), bbox=FRANCE, organisation=org_a)
    assert [point["name"] for point in answer["points"]] == ["Amélie Durand"]
