"""Every way the search reads its results gives the same answers (on both engines).

The selector chooses a plan from how many entries the words and filters pick (see
``search.py``); on a small corpus it always reads. Here each plan is forced in turn and must
answer exactly what reading everything answers: the same pages, counts and facets. Then the
window: past COUNT_LIMIT results the count stops there and ``more`` is set; and the map's
grid of a whole result set gives the clusters of the viewport.
"""

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parcours.directory import search as search_module
from parcours.directory.models import MapCell, SearchEntry
from parcours.directory.search import SearchQuery, directory_map, directory_search

from .annuaire_corpus import annuaire_corpus

pytestmark = pytest.mark.django_db

QUERIES = [
    {"q": "kiné"},
    {"q": "kinésitérapeute"},  # a typo
    {"q": "médecin vénissieux"},
    {"q": "ccas"},
    {"q": "ccas de"},
    {"q": "centre de vé"},
    {"q": "a"},
    {"q": "zzzz"},
    {"profession_code": "10"},
    {"profession_code": "70", "mode": "S"},
    {"savoir_faire_code": "SM54"},
    {"category_code": "355"},
    {"category_code": "ccas"},  # services have their own categories
    {"kind": "structure"},
    {"commune": "69259"},
    {"language": "ar"},
    {"accepting": "now"},
    {"q": "médecin", "accepting": "now"},
    {"q": "kiné", "commune": "69259"},
    {"q": "kiné", "kind": "structure"},  # words and a filter that never meet
    {"q": "centre", "category_code": "355"},
    {"near_commune": "69259", "radius_km": 3},
    {"near_commune": "69259", "radius_km": 5, "q": "kiné"},
    {"near_commune": "69199", "radius_km": 10, "profession_code": "10"},
    {"near_commune": "69259", "radius_km": 200, "q": "médecin", "savoir_faire_code": "SM54"},
    {"near_commune": "69259", "radius_km": 2, "accepting": "now"},
]
PLANS = {  # what each forced plan changes (SQLite's and PostgreSQL's limits alike)
    "read (SQLite: without the full-text index's order)": {"ORDERED_READ": False},
    "the full-text index's order, every word a prefix (SQLite)": {"EXACT_TERMS": 0},
    "walk (tests each entry in sort order)": {
        "READ_LIMIT": {"sqlite": -1, "postgresql": -1},
        "ORDERED_READ": False,
    },
    "text (SQLite: the folded text)": {
        "READ_LIMIT": {"sqlite": -1, "postgresql": -1},
        "FTS_MEMBER_LIMIT": -1,
        "ORDERED_READ": False,
    },
    "walk cut short, then read": {
        "READ_LIMIT": {"sqlite": -1, "postgresql": -1},
        "WALK_BOUND": {"sqlite": 2, "postgresql": 2},
        "FILTER_WALK_BOUND": 2,
        "ORDERED_READ": False,
    },
    "no lead filter": {"FEW": 0, "FEW_PLACED": 0},
    "small first disc": {"FIRST_RING": 1 / 100},
    "near searches in rings": {
        "NEAR_READ_LIMIT": {"sqlite": -1, "postgresql": -1},
        "READ_LIMIT": {"sqlite": -1, "postgresql": -1},
    },
    "near searches in rings, words tested on the text": {
        "NEAR_READ_LIMIT": {"sqlite": -1, "postgresql": -1},
        "READ_LIMIT": {"sqlite": -1, "postgresql": -1},
        "NEAR_INTERSECT_LIMIT": {"sqlite": -1, "postgresql": -1},
    },
    "every word in the GIN index (PostgreSQL)": {"SHORT_WORD": 0},
}
WINDOW = 3  # a window smaller than the corpus, so that walks and rings can end early


@pytest.fixture
def corpus(org_a, org_b):
    return annuaire_corpus(org_a, org_b)


def answer(organisation, fields):
    result = directory_search(query=SearchQuery(**fields), organisation=organisation, page_size=100)
    pages = [(entry.title, entry.distance_km) for entry in result.page]
    return pages, result.page.paginator.count, result.more, result.facets


@pytest.fixture
def forget_estimates():
    search_module._estimates.clear()
    yield
    search_module._estimates.clear()


@pytest.mark.parametrize("plan", PLANS)
def test_every_plan_answers_what_reading_everything_answers(
    corpus, org_a, monkeypatch, forget_estimates, plan
):
    monkeypatch.setattr(search_module, "COUNT_LIMIT", WINDOW)
    expected = [answer(org_a, fields) for fields in QUERIES]
    search_module._estimates.clear()
    for name, value in PLANS[plan].items():
        monkeypatch.setattr(search_module, name, value)
    walked = []
    walk = search_module._walk
    monkeypatch.setattr(
        search_module, "_walk", lambda *args: walked.append(walk(*args)) or walked[-1]
    )
    for fields, wanted in zip(QUERIES, expected, strict=True):
        assert answer(org_a, fields) == wanted, fields
    if plan.startswith("walk cut"):
        assert any(rows is None for rows, _found in walked)  # some were cut, then read
    elif plan.startswith("walk") or plan.startswith("text"):
        assert any(rows is not None for rows, _found in walked)


def test_a_walk_through_every_entry_of_its_filter_is_the_answer(corpus, org_a, monkeypatch):
    """A filter no index serves, on few entries: walked to their end, nothing left to read."""
    fields = {"profession_code": "10", "mode": "B"}  # no GP of the corpus volunteers
    expected = answer(org_a, fields)
    walked = []
    walk = search_module._walk
    monkeypatch.setattr(
        search_module, "_walk", lambda *args: walked.append(walk(*args)) or walked[-1]
    )
    monkeypatch.setattr(search_module, "_rows", lambda *args, **kwargs: pytest.fail("read"))

    assert answer(org_a, fields) == expected
    assert expected[1] == 0 and walked == [([], 0)]


def test_past_the_limit_the_count_stops_and_says_there_is_more(corpus, monkeypatch):
    monkeypatch.setattr(search_module, "COUNT_LIMIT", 3)
    everything = directory_search(query=SearchQuery(), page_size=2)
    assert everything.more and everything.page.paginator.count == 3
    assert everything.page.paginator.num_pages == 2
    assert sum(n for _value, n in everything.facets["kind"]) == 3  # the first three
    few = directory_search(query=SearchQuery(q="kiné", commune="69259"))
    assert not few.more and few.page.paginator.count == 2


def test_the_last_page_within_the_limit_is_served(corpus, monkeypatch):
    monkeypatch.setattr(search_module, "COUNT_LIMIT", 4)
    result = directory_search(query=SearchQuery(page=99), page_size=3)
    assert result.page.number == 2 and len(result.page) == 1


def test_near_searches_come_nearest_first_through_the_rings(corpus, monkeypatch):
    everything = directory_search(query=SearchQuery(near_commune="69259", radius_km=20))
    distances = [entry.distance_km for entry in everything.page]
    assert distances == sorted(distances) and len(distances) > 5
    monkeypatch.setattr(search_module, "COUNT_LIMIT", 5)
    first = directory_search(query=SearchQuery(near_commune="69259", radius_km=20))
    assert [e.title for e in first.page] == [e.title for e in everything.page][:5]
    assert first.more


NEAR = [fields for fields in QUERIES if "near_commune" in fields]


def test_near_searches_answer_alike_from_the_disc_the_cells_choose(
    corpus, org_a, monkeypatch, forget_estimates
):
    """With pre-counted cells, the first disc is the one they say holds the window: the
    answers are those of discs grown from a fraction of the radius."""
    monkeypatch.setattr(search_module, "COUNT_LIMIT", WINDOW)
    for name in ("NEAR_READ_LIMIT", "READ_LIMIT"):  # every near search in rings
        monkeypatch.setattr(search_module, name, {"sqlite": -1, "postgresql": -1})
    monkeypatch.setattr(search_module, "FEW", 0)
    assert not MapCell.objects.exists()  # a small corpus has none
    expected = [answer(org_a, fields) for fields in NEAR]
    monkeypatch.setattr(search_module, "MAP_CELLS_BEYOND", 0)
    search_module.map_cells_fill()
    first = []
    rings = search_module._rings
    monkeypatch.setattr(
        search_module, "_rings", lambda *args: first.append(args[-1]) or rings(*args)
    )
    for fields, wanted in zip(NEAR, expected, strict=True):
        assert answer(org_a, fields) == wanted, fields
    # The corpus is a few streets: the nearest cells (600 m wide) hold it, radius 3 to 200 km.
    assert len(first) >= 3 and all(ring < 2 for ring in first)


def test_the_cells_give_the_disc_that_holds_enough_entries(corpus, monkeypatch):
    venissieux = (45.6975, 4.8867)
    assert search_module._dense_enough(venissieux, 20, 1) is None  # no cells yet
    monkeypatch.setattr(search_module, "MAP_CELLS_BEYOND", 0)
    search_module.map_cells_fill()
    public = SearchEntry.objects.filter(organisation=None, latitude__isnull=False).count()
    one = search_module._dense_enough(venissieux, 20, 1)
    assert 0 < one < 2  # the nearest cell, and a cell's width
    assert search_module._dense_enough(venissieux, 20, public) == 20  # all of them: the radius
    assert search_module._dense_enough(venissieux, 0.3, 1) <= 0.3  # never beyond the radius
    assert search_module._placed_entries() == public


FRANCE = (-5.0, 41.0, 10.0, 51.0)
LYON = (4.8, 45.6, 4.95, 45.8)


@pytest.mark.parametrize("bbox", [FRANCE, LYON])
@pytest.mark.parametrize("fields", [{}, {"q": "kiné"}, {"profession_code": "10"}])
def test_the_map_grid_of_a_result_set_clusters_like_the_database(
    corpus, org_a, monkeypatch, bbox, fields
):
    monkeypatch.setattr(search_module, "MAP_MAX_POINTS", 1)
    exact = directory_map(query=SearchQuery(**fields), bbox=bbox, organisation=org_a)
    monkeypatch.setattr(search_module, "MAP_EXACT_LIMIT", 0)
    monkeypatch.setattr(search_module, "MAP_CELLS_BEYOND", 0)
    monkeypatch.setattr(search_module, "MAP_WIDE", 0)
    search_module.map_cache_clear()
    grid = directory_map(query=SearchQuery(**fields), bbox=bbox, organisation=org_a)
    assert grid["points"] == [] and exact["points"] == []
    assert grid["total"] == exact["total"] == sum(c["count"] for c in grid["clusters"])
    assert sum(c["count"] for c in exact["clusters"]) == exact["total"]
    again = directory_map(query=SearchQuery(**fields), bbox=bbox, organisation=org_a)
    assert again == grid  # from the grid kept in memory


def test_the_public_map_leaves_the_services_out(corpus, org_a, monkeypatch):
    monkeypatch.setattr(search_module, "MAP_MAX_POINTS", 1)
    public = directory_map(query=SearchQuery(), bbox=LYON)
    staff = directory_map(query=SearchQuery(), bbox=LYON, organisation=org_a)
    assert staff["total"] == public["total"] + 1  # organisation A's service


@pytest.mark.parametrize("fields", [{"q": "kiné"}, {"profession_code": "70"}, {"q": "médecin"}])
def test_the_map_answers_alike_whether_it_reads_the_words_or_the_viewport(
    corpus, monkeypatch, forget_estimates, fields
):
    monkeypatch.setattr(search_module, "MAP_MAX_POINTS", 2)
    answers = [directory_map(query=SearchQuery(**fields), bbox=bbox) for bbox in (FRANCE, LYON)]
    search_module._estimates.clear()
    monkeypatch.setattr(search_module, "MAP_READ_LIMIT", -1)
    monkeypatch.setattr(search_module, "_viewport", lambda organisation, bbox: -1)
    again = [directory_map(query=SearchQuery(**fields), bbox=bbox) for bbox in (FRANCE, LYON)]
    assert again == answers


def test_the_page_and_the_api_say_when_there_are_more_results(client, corpus, monkeypatch):
    monkeypatch.setattr(search_module, "COUNT_LIMIT", 3)
    page = client.get("/annuaire/", {"commune": "Vénissieux", "radius": "50"})
    assert "Plus de 3 résultats" in page.content.decode()
    answer = client.get("/api/v1/annuaire/search").json()
    assert answer["more"] is True and answer["count"] == 3


@pytest.fixture
def cells(corpus, monkeypatch):
    """Cells of every level for every facet value of the small corpus (a national one keeps
    those where a viewport can hold more than MAP_CELLS_BEYOND entries)."""
    monkeypatch.setattr(search_module, "MAP_CELLS_BEYOND", 0)
    search_module.map_cells_fill()
    search_module.map_cache_clear()


@pytest.mark.parametrize("facet", ["", "kind", "profession_code", "mode"])
def test_the_cells_of_each_level_count_the_public_located_entries(cells, facet):
    public = SearchEntry.objects.filter(
        organisation__isnull=True, latitude__isnull=False, longitude__isnull=False
    )
    values = {""} if not facet else set(public.values_list(facet, flat=True)) - {""}
    assert values
    for value in values:
        wanted = public.filter(**({facet: value} if facet else {})).count()
        deepest = search_module.MAP_CELL_FACET_FINEST if facet else 99
        for level in [level for level in search_module.MAP_CELL_LEVELS if level <= deepest]:
            found = MapCell.objects.filter(facet=facet, value=value, level=level)
            assert sum(found.values_list("count", flat=True)) == wanted, (value, level)


@pytest.mark.parametrize(
    "fields", [{}, {"profession_code": "10"}, {"kind": "structure"}, {"mode": "L"}]
)
def test_a_wide_viewport_comes_from_the_cells_as_from_the_grid_of_its_entries(
    cells, org_a, monkeypatch, fields
):
    monkeypatch.setattr(search_module, "MAP_MAX_POINTS", 0)
    monkeypatch.setattr(search_module, "MAP_EXACT_LIMIT", 0)
    monkeypatch.setattr(search_module, "MAP_CELLS_BEYOND", 0)
    monkeypatch.setattr(search_module, "MAP_WIDE", 0)
    query = SearchQuery(**fields)
    counted = []
    for organisation in (None, org_a):
        with CaptureQueriesContext(connection) as queries:
            counted.append(directory_map(query=query, bbox=FRANCE, organisation=organisation))
        entries = [q["sql"] for q in queries if "directory_searchentry" in q["sql"]]
        assert len(entries) == (organisation is not None)  # only the organisation's services
    monkeypatch.setattr(search_module, "_precounted", lambda *args, **kwargs: None)
    gridded = [directory_map(query=query, bbox=FRANCE, organisation=o) for o in (None, org_a)]
    assert counted[1]["total"] >= counted[0]["total"] > 0
    for mine, theirs in zip(counted, gridded, strict=True):
        assert mine["total"] == theirs["total"]
        assert [c["count"] for c in mine["clusters"]] == [c["count"] for c in theirs["clusters"]]
        for cell, other in zip(mine["clusters"], theirs["clusters"], strict=True):
            assert cell["latitude"] == pytest.approx(other["latitude"])
            assert cell["longitude"] == pytest.approx(other["longitude"])


@pytest.mark.parametrize(
    "fields",
    [
        {"q": "kiné"},
        {"profession_code": "10", "mode": "L"},
        {"commune": "69259"},
        {"language": "ar"},
    ],
)
def test_searches_with_words_or_several_filters_are_not_precounted(cells, fields):
    assert search_module._precounted(SearchQuery(**fields), FRANCE, None) is None


def test_the_map_does_without_cells_not_counted_yet(corpus, monkeypatch):
    monkeypatch.setattr(search_module, "MAP_MAX_POINTS", 1)
    monkeypatch.setattr(search_module, "MAP_EXACT_LIMIT", 0)
    monkeypatch.setattr(search_module, "MAP_CELLS_BEYOND", 0)
    before = directory_map(query=SearchQuery(), bbox=FRANCE)
    MapCell.objects.all().delete()  # as after the migration, before the next rebuild
    search_module.map_cache_clear()
    assert search_module._precounted(SearchQuery(), FRANCE, None) is None
    assert directory_map(query=SearchQuery(), bbox=FRANCE) == before


sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's entry ids")


def in_id_order():
    return list(SearchEntry.objects.order_by("id").values_list("id", flat=True))


def in_sort_order():
    return list(SearchEntry.objects.order_by("sort_key", "id").values_list("id", flat=True))


@sqlite_only
def test_sqlite_numbers_the_entries_of_a_rebuild_in_the_sort_order(corpus):
    assert in_id_order() == in_sort_order()
    first = in_id_order()
    search_module.search_index_rebuild()
    # Ids never given before, so that the map's grids kept by other processes are renewed.
    assert in_id_order() == in_sort_order() and in_id_order()[0] == first[-1] + 1


@sqlite_only
@pytest.mark.parametrize(
    "fields", [{"q": "kiné"}, {"q": "ccas de"}, {"q": "kiné", "kind": "professional", "mode": "L"}]
)
def test_sqlite_reads_the_matches_in_the_full_text_index_order_with_later_entries(
    corpus, org_a, monkeypatch, forget_estimates, fields
):
    """Entries written since the rebuild (refreshed by id) come after every other, and are
    merged into the answer at their place in the sort order."""
    kinés = SearchEntry.objects.filter(kind="professional", text__contains="kine")
    search_module.search_index_refresh(
        kind="professional", ids=kinés.values_list("ref_id", flat=True)[:2]
    )
    later = SearchEntry.objects.filter(id__gte=search_module.ORDERED_BELOW)
    assert later.count() == 2 and in_id_order() != in_sort_order()
    monkeypatch.setattr(search_module, "COUNT_LIMIT", WINDOW)
    with CaptureQueriesContext(connection) as queries:
        ordered = answer(org_a, fields)
    assert any("CROSS JOIN" in query["sql"] for query in queries)
    monkeypatch.setattr(search_module, "ORDERED_READ", False)
    search_module._estimates.clear()
    with CaptureQueriesContext(connection) as queries:
        assert answer(org_a, fields) == ordered
    assert not any("CROSS JOIN" in query["sql"] for query in queries)


@sqlite_only
def test_a_whole_kind_rebuilds_the_sqlite_index_in_the_sort_order(corpus):
    search_module.search_index_refresh(kind="professional", ids=[])
    search_module.search_index_refresh(kind="structure")
    assert in_id_order() == in_sort_order()
    assert not SearchEntry.objects.filter(id__gte=search_module.ORDERED_BELOW).exists()


@sqlite_only
def test_the_migration_numbers_existing_entries_in_the_sort_order(corpus, org_a):
    migration = importlib.import_module(
        "parcours.directory.migrations.0017_search_entries_in_sort_order"
    )
    before = [answer(org_a, fields) for fields in QUERIES]
    with connection.cursor() as cursor:  # as written before: ids in no particular order
        cursor.execute("UPDATE directory_searchentry SET id = 1000000 - id")
    assert in_id_order() != in_sort_order()
    editor = SimpleNamespace(connection=connection, execute=connection.cursor().execute)
    migration.renumber(None, editor)
    assert in_id_order() == in_sort_order()
    search_module._estimates.clear()
    assert [answer(org_a, fields) for fields in QUERIES] == before


@sqlite_only
@pytest.mark.parametrize("exact", [True, False])  # the viewport's positions, or the grid's
@pytest.mark.parametrize("bbox", [FRANCE, LYON])
def test_sqlite_reads_the_positions_of_matches_from_their_index_by_id(
    corpus, monkeypatch, forget_estimates, bbox, exact
):
    monkeypatch.setattr(search_module, "MAP_MAX_POINTS", 1)
    if not exact:
        monkeypatch.setattr(search_module, "MAP_EXACT_LIMIT", 0)
    with CaptureQueriesContext(connection) as queries:
        indexed = directory_map(query=SearchQuery(q="kiné"), bbox=bbox)
    assert any("INDEXED BY searchentry_id_position" in query["sql"] for query in queries)
    assert indexed["total"] > 1
    monkeypatch.setattr(search_module, "_by_id", list)
    search_module.map_cache_clear()
    assert directory_map(query=SearchQuery(q="kiné"), bbox=bbox) == indexed
