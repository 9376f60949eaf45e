"""Directory search: one selector, two engines (SQLite FTS5, PostgreSQL tsvector).

The index (``SearchEntry``) holds one row per practice situation, structure and service,
with its text folded in Python (``parcours.lib.text.fold``): both engines therefore see the
same words, and a query returns the same result set on both. Results come in a static
order (``sort_key``, then id), so pages are stable and ``LIMIT`` stops early.

Query words match by prefix ("kiné" finds "kinésithérapeute"); all words must match.
Words of one character are ignored (they would match half the directory). A word of five
letters or more that is the prefix of no indexed word is read with one typo: each spelling
at one edit (deletion, insertion, substitution, transposition) that starts an indexed word
(``SearchWord``, the same table on both engines) becomes an alternative.
"""

import bisect
import heapq
import json
import math
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from operator import itemgetter

from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Concat
from django.utils import timezone

from parcours.lib.text import fold
from parcours.territory.models import Commune

from .geocoding import geocode
from .importing import batches, insert_rows
from .models import (
    Availability,
    MapCell,
    PracticeSituation,
    SearchEntry,
    SearchWord,
    Service,
    Structure,
)

PAGE_SIZE = 20
MIN_WORD = 2
TYPO_MIN_LENGTH = 5
VOCABULARY_MIN_LENGTH = 3
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


# --- Building the index ------------------------------------------------------------------
#
# Entries are written in (about) their sort order: the sources are read ordered by the
# names the sort key folds, and a full rebuild merges the three kinds. Rows that follow each
# other in the sort order then sit side by side in the table, so walking the sort index
# (how broad searches read their first results) reads neighbouring pages instead of one
# page per row: ≈ 4 times faster on PostgreSQL, where the heap is read through its order.
# Entries are built from plain values and written in batches with ``insert_rows`` (COPY on
# PostgreSQL); the vocabulary is written once at the end.
#
# SQLite: the ids of the entries follow the sort order, so that the full-text index, whose
# lists are in id order, gives the matches of a search in the sort order and stops at the
# window (``_read_ordered``). A rebuild stages the entries, then writes them sorted with
# ids following the last rebuild's; entries written later (a few services, refreshed by
# id) get ids from ORDERED_BELOW up, read apart and merged. A whole kind rebuilds the whole
# index.
ORDERED_BELOW = 2**40
STAGE = "search_entry_stage"
_TABLE = "directory_searchentry"

SITUATION_VALUES = (
    "pk",
    "professional_id",
    "professional__first_name",
    "professional__last_name",
    "professional__profession",
    "professional__savoir_faire",
    "place_name",
    "commune__name",
    "postal_code",
    "professional__profession_code",
    "professional__savoir_faire_code",
    "mode",
    "professional__languages",
    "commune_id",
    "latitude",
    "longitude",
)
STRUCTURE_VALUES = (
    "pk",
    "name",
    "long_name",
    "category",
    "commune__name",
    "postal_code",
    "category_code",
    "commune_id",
    "latitude",
    "longitude",
)
SERVICE_VALUES = (
    "pk",
    "organisation_id",
    "name",
    "category",
    "thematiques",
    "commune__name",
    "postal_code",
    "circle",
    "languages",
    "commune_id",
    "latitude",
    "longitude",
)


def _entry(kind: str, ref_id: int, **values) -> dict:
    """Every column of a SearchEntry, in one order (``insert_rows`` wants the same keys)."""
    return {
        "kind": kind,
        "ref_id": ref_id,
        "organisation_id": values.get("organisation_id"),
        "professional_id": values.get("professional_id"),
        "title": values["title"],
        "subtitle": values.get("subtitle", ""),
        "sort_key": values["sort_key"],
        "text": values["text"],
        "profession_code": values.get("profession_code", ""),
        "savoir_faire_code": values.get("savoir_faire_code", ""),
        "category_code": values.get("category_code", ""),
        "circle": values.get("circle", ""),
        "mode": values.get("mode", ""),
        "languages": values.get("languages") or [],
        "commune_id": values.get("commune_id"),
        "latitude": values.get("latitude"),
        "longitude": values.get("longitude"),
    }


def _situation_entry(row: tuple) -> dict:
    (
        pk, person, first_name, last_name, profession, savoir_faire, place_name, commune,
        postal_code, profession_code, savoir_faire_code, mode, languages, commune_id,
        latitude, longitude,
    ) = row  # fmt: skip
    title = f"{first_name} {last_name}".strip()
    words = [title, profession, savoir_faire, place_name, commune or "", postal_code]
    return _entry(
        SearchEntry.Kind.PROFESSIONAL.value,
        pk,
        professional_id=person,
        title=title,
        subtitle=" · ".join(filter(None, [profession, savoir_faire])),
        sort_key=fold(f"{last_name} {first_name}"),
        text=fold(" ".join(words)),
        profession_code=profession_code,
        savoir_faire_code=savoir_faire_code,
        mode=mode,
        languages=languages,
        commune_id=commune_id,
        latitude=latitude,
        longitude=longitude,
    )


def _structure_entry(row: tuple) -> dict:
    (
        pk, name, long_name, category, commune, postal_code, category_code, commune_id,
        latitude, longitude,
    ) = row  # fmt: skip
    words = [name, long_name, category, commune or "", postal_code]
    return _entry(
        SearchEntry.Kind.STRUCTURE.value,
        pk,
        title=name,
        subtitle=category,
        sort_key=fold(name),
        text=fold(" ".join(words)),
        category_code=category_code,
        commune_id=commune_id,
        latitude=latitude,
        longitude=longitude,
    )


def _service_entry(row: tuple) -> dict:
    (
        pk, organisation_id, name, category, thematiques, commune, postal_code, circle,
        languages, commune_id, latitude, longitude,
    ) = row  # fmt: skip
    words = [name, category, " ".join(thematiques or []), commune or "", postal_code]
    return _entry(
        SearchEntry.Kind.SERVICE.value,
        pk,
        organisation_id=organisation_id,
        title=name,
        subtitle=category,
        sort_key=fold(name),
        text=fold(" ".join(words)),
        category_code=fold(category)[:20],
        circle=circle,
        languages=languages,
        commune_id=commune_id,
        latitude=latitude,
        longitude=longitude,
    )


SOURCES = {  # kind: (its active rows, in about the sort order; their values; the builder)
    SearchEntry.Kind.PROFESSIONAL: (
        lambda: PracticeSituation.objects.filter(
            is_active=True, professional__is_active=True
        ).order_by("professional__last_name", "professional__first_name", "pk"),
        SITUATION_VALUES,
        _situation_entry,
    ),
    SearchEntry.Kind.STRUCTURE: (
        lambda: Structure.objects.filter(is_active=True).order_by("name", "pk"),
        STRUCTURE_VALUES,
        _structure_entry,
    ),
    SearchEntry.Kind.SERVICE: (
        lambda: (
            Service.objects.with_scopes_disabled().filter(is_active=True).order_by("name", "pk")
        ),
        SERVICE_VALUES,
        _service_entry,
    ),
}


def _entries(kind: str, ids: list[int] | None = None) -> Iterator[dict]:
    source, values, build = SOURCES[SearchEntry.Kind(kind)]
    rows = source()
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    for row in rows.values_list(*values).iterator(chunk_size=2000):
        yield build(row)


def _write(entries: Iterable[dict], *, whole: int = 0) -> dict[str, int]:
    """Insert the entries in batches, then the words of their text; counts per kind.

    SQLite gives the entries ids in the sort order (see ORDERED_BELOW): ``whole`` (the
    whole index, into an empty table: its first id) through a staging table, then in the
    sort order with ids ``whole``, ``whole`` + 1…; other entries after everything, from
    ORDERED_BELOW up."""
    counts = dict.fromkeys(SearchEntry.Kind.values, 0)
    words: set[str] = set()
    sqlite = connection.vendor == "sqlite"
    stage = STAGE if sqlite and whole else ""
    next_id = None
    if stage:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {stage}")
            cursor.execute(f"CREATE TEMPORARY TABLE {stage} AS SELECT * FROM {_TABLE} WHERE 0")  # noqa: S608
    elif sqlite:
        last = SearchEntry.objects.aggregate(last=Max("id"))["last"] or 0
        next_id = max(last + 1, ORDERED_BELOW)
    for batch in batches(entries, 5_000):
        if next_id is not None:
            for entry in batch:
                entry["id"] = next_id
                next_id += 1
        insert_rows(SearchEntry, batch, table=stage)
        for entry in batch:
            counts[entry["kind"]] += 1
            words.update(entry["text"].split())
    if stage:
        columns = ", ".join(
            connection.ops.quote_name(field.column)
            for field in SearchEntry._meta.concrete_fields
            if not field.primary_key
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {_TABLE} (id, {columns}) SELECT %s + ROW_NUMBER() OVER"  # noqa: S608
                f" (ORDER BY sort_key, rowid), {columns} FROM {stage} ORDER BY sort_key, rowid",
                [whole - 1],
            )
            cursor.execute(f"DROP TABLE {stage}")
    _vocabulary_add(words)
    return counts


def search_index_refresh(*, kind: str, ids: Iterable[int] | None = None) -> int:
    """Rebuild the entries of one kind (all, or those of the given source ids).

    SQLite: a whole kind rebuilds the whole index, written in the sort order again."""
    if ids is None and connection.vendor == "sqlite":
        return search_index_rebuild()[kind]
    stale = SearchEntry.objects.filter(kind=kind)
    if ids is not None:
        ids = list(ids)
        stale = stale.filter(ref_id__in=ids)
    map_cache_clear()
    with transaction.atomic():
        stale.delete()
        created = _write(_entries(kind, ids))[kind]
        if kind != SearchEntry.Kind.SERVICE:  # services are never in the public cells
            map_cells_fill()
    if ids is None:  # a whole kind: the planner's statistics change
        _analyse()
    return created


def search_index_refresh_kinds(kinds: Iterable[str]) -> dict[str, int]:
    """Rebuild whole kinds (entries per kind): one by one, or on SQLite the index once."""
    kinds = list(kinds)
    if connection.vendor == "sqlite" and kinds:
        counts = search_index_rebuild()
        return {kind: counts[kind] for kind in kinds}
    return {kind: search_index_refresh(kind=kind) for kind in kinds}


def _vocabulary_add(words: Iterable[str]) -> None:
    kept = sorted({word[:WORD_MAX] for word in words if len(word) >= VOCABULARY_MIN_LENGTH})
    for batch in batches(kept, 5_000):
        SearchWord.objects.bulk_create(
            [SearchWord(word=word) for word in batch], ignore_conflicts=True
        )


def search_index_rebuild() -> dict[str, int]:
    """Every entry again, all kinds merged in the sort order; then fresh statistics."""
    map_cache_clear()
    with transaction.atomic():
        # Ids never given before (the map's grids kept by each process know the index by its
        # highest id): after the last rebuild's, from 1 again once half the range is used.
        last = SearchEntry.objects.filter(id__lt=ORDERED_BELOW).aggregate(last=Max("id"))["last"]
        first = 1 if (last or 0) >= ORDERED_BELOW // 2 else (last or 0) + 1
        SearchEntry.objects.all().delete()
        streams = [_entries(kind) for kind in SearchEntry.Kind.values]
        counts = _write(heapq.merge(*streams, key=itemgetter("sort_key")), whole=first)
        map_cells_fill()
    _analyse()
    return counts


# Pre-counted map cells (``MapCell``): the public entries per cell of global grids of
# 360/2^k degrees, at the levels of MAP_CELL_LEVELS, for the whole directory and for each
# value of MAP_CELL_FACETS that more than MAP_CELLS_BEYOND entries have (a smaller result
# set never needs a grid: a viewport of it is clustered exactly). Counted at the finest
# level, whose cells nest in the coarser ones. A level is kept only where a viewport can
# hold more than MAP_CELLS_BEYOND entries of the result set: a viewport needing level k
# spans about 25 x 16 cells of it, so it meets at most 3 x 2 cells of level k - 4, and the
# level is kept when six of its densest such cell exceed the limit. A search with at most
# one of these filters (and nothing else) then answers a wide viewport from a few hundred
# cells, without reading its entries.
MAP_CELL_LEVELS = (0, 2, 4, 6, 8, 10, 12, 14, 16)
MAP_CELL_FACET_FINEST = 14  # the finest level kept for a facet value (16: the whole directory)
MAP_CELL_FACETS = ("kind", "profession_code", "savoir_faire_code", "category_code", "mode")


def map_cells_fill() -> int:
    """Count the cells again (in the index's transaction); how many were written."""
    MapCell.objects.all().delete()
    public = SearchEntry.objects.filter(
        organisation__isnull=True, latitude__isnull=False, longitude__isnull=False
    ).order_by()
    fields = (*MAP_CELL_FACETS, "latitude", "longitude")
    if connection.vendor == "postgresql":  # a hash aggregate
        positions = public.values_list(*fields).annotate(n=Count("id")).iterator(10_000)
    else:  # counting in Python beats SQLite's sort of every row
        counted = Counter(public.values_list(*fields).iterator(chunk_size=10_000))
        positions = ((*row, n) for row, n in counted.items())
    written = 0
    for (facet, value), cells in _finest_cells(positions).items():
        levels = _cell_levels(cells, MAP_CELL_FACET_FINEST if facet else MAP_CELL_LEVELS[-1])
        if facet and not levels:
            continue
        for level, coarse in levels:
            for batch in batches(coarse.items(), 5_000):
                insert_rows(MapCell, [_cell(facet, value, level, *cell) for cell in batch])
            written += len(coarse)
    return written


def _finest_cells(positions) -> dict[tuple[str, str], dict[tuple[int, int], list]]:
    """(facet, value) -> finest cell -> [entries, sum of latitudes, sum of longitudes]."""
    size = 360 / 2 ** MAP_CELL_LEVELS[-1]
    grids: dict[tuple[str, str], dict[tuple[int, int], list]] = {}
    for *values, lat, lon, n in positions:
        key = (math.floor(lat / size), math.floor(lon / size))
        for facet in (("", ""), *zip(MAP_CELL_FACETS, values, strict=True)):
            if facet[0] and not facet[1]:
                continue
            cells = grids.get(facet)
            if cells is None:
                cells = grids[facet] = {}
            cell = cells.get(key)
            if cell is None:
                cells[key] = [n, lat * n, lon * n]
            else:
                cell[0] += n
                cell[1] += lat * n
                cell[2] += lon * n
    return grids


def _cell_levels(finest: dict[tuple[int, int], list], deepest: int) -> list[tuple[int, dict]]:
    """The levels worth keeping for one result set (see above), down to ``deepest``,
    coarsest first; none when it has at most MAP_CELLS_BEYOND entries."""
    last = MAP_CELL_LEVELS[-1]
    if sum(n for n, _lat, _lon in finest.values()) <= MAP_CELLS_BEYOND:
        return []
    grids = {}
    for level in (level for level in MAP_CELL_LEVELS if level <= deepest):
        shift = last - level
        coarse: dict[tuple[int, int], list] = {}
        for (y, x), (n, lat, lon) in finest.items():
            cell = coarse.setdefault((y >> shift, x >> shift), [0, 0.0, 0.0])
            cell[0] += n
            cell[1] += lat
            cell[2] += lon
        grids[level] = coarse
    densest = {level: max(c[0] for c in cells.values()) for level, cells in grids.items()}
    return [
        (level, cells)
        for level, cells in grids.items()
        if 6 * densest[max((lv for lv in grids if lv <= level - 4), default=0)] > MAP_CELLS_BEYOND
    ]


def _cell(facet: str, value: str, level: int, key: tuple[int, int], sums: list) -> dict:
    n, lat, lon = sums
    return {
        "facet": facet,
        "value": value[:20],
        "level": level,
        "y": key[0],
        "x": key[1],
        "count": n,
        "latitude": lat / n,
        "longitude": lon / n,
    }


def _analyse() -> None:
    """Refresh the planner's statistics after a rebuild: PostgreSQL's choice between the
    GIN, sort and lat/lon indexes depends on them, and the map reads the lat/lon index
    alone once VACUUM has marked the pages visible (autovacuum would come, later; VACUUM
    cannot run inside a transaction, ANALYZE alone does then)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            for table in ("directory_searchentry", "directory_searchword"):
                cursor.execute(f"{command} {table}")  # fixed names
        else:
            cursor.execute("ANALYZE directory_searchentry")
            cursor.execute("ANALYZE directory_searchword")


# --- Querying --------------------------------------------------------------------------
#
# A search answers a page of results, how many there are, and facets. Counting and
# faceting every match of a broad query ("médecin": a quarter of a national directory) is
# linear in the matches on both engines (≈ 150 ms for 250,000 on PostgreSQL), so a search
# reads a *window*: the first COUNT_LIMIT + 1 results in their order, with the few columns
# the facets need. Up to COUNT_LIMIT results, count, pages and facets are exact; beyond,
# ``more`` is set, the count is COUNT_LIMIT (pages stop there: refine the search) and the
# facets count the first COUNT_LIMIT results. The page's entries are then read by id.
#
# How the window is read (docs/performance.md has the measurements). The number of entries
# with the words chooses: counted by FTS5 on SQLite (it only reads its doclists), estimated
# from the statistics ANALYZE keeps on the tsvector on PostgreSQL; kept a while, as it only
# chooses a plan and never changes an answer (``test_search_plans.py`` forces each plan):
# - SQLite, words and no filter an index serves (``_read_ordered``): the full-text index
#   lists its matches in id order, which is the sort order (see ORDERED_BELOW): the first
#   matches are the window, and nothing else is read. Otherwise:
# - "lead": the organisation's availability declarations (few) give the professionals;
#   their entries are read and sorted;
# - "read": few entries have the words: read them (``id IN fts``, GIN) and sort them;
# - "walk" (PostgreSQL), "member" or "text" (SQLite): many have them: walk the sort order
#   (the index is written in that order, so the walk reads neighbouring pages) testing
#   each entry: the tsvector, membership of the FTS5 match (``+id IN fts``: not through the
#   primary key), or the folded text (``LIKE '% word%'``: its words are [a-z0-9] separated
#   by single spaces, so the same prefix rule). A walk stops after WALK_BOUND entries; when
#   that stretch held too few results it walks on as far as it suggests, or reads.
# - "near": few candidates are read and sorted by distance; else growing discs around the
#   point (the lat/lon index), the words tested on the text: once a disc holds the window,
#   those are the nearest and the rest of the radius is never read. The first disc is the
#   one the pre-counted map cells say holds the window, at the share of the entries the
#   words have.

FACETS = (
    "kind",
    "profession_code",
    "savoir_faire_code",
    "category_code",
    "circle",
    "commune",
    "mode",
)
COUNT_LIMIT = 200
# Columns of the window: the id (order), the facets, languages and the professional.
WINDOW = (*FACETS, "languages", "professional_id")
# Up to this many entries with the words, read them all and sort them; beyond, walk the
# sort order testing each entry (at most WALK_BOUND of them, then read). SQLite tests
# membership of the FTS5 match up to FTS_MEMBER_LIMIT, and the folded text beyond.
# A walk finds the first results after about (results wanted) × (entries) / (matches)
# entries when the matches are spread over the sort order, but far later when they gather
# in it (a surname, "centre de santé"): reading costs 1 to 2 µs per match (PostgreSQL: a
# heap page each when spread, shared when gathered), walking about 1 µs per entry; below
# these limits reading is the safer (measured at 1.3 million entries, warm caches).
READ_LIMIT = {"sqlite": 20_000, "postgresql": 15_000}
FTS_MEMBER_LIMIT = 70_000
WALK_BOUND = {"sqlite": 20_000, "postgresql": 50_000}
WALK_PER_READ = {"sqlite": 2, "postgresql": 1}  # entries walked for the cost of a match read
# Filters no index serves (mode, kind, language…) are only ever read by walking, or by
# reading the whole table: a longer walk is still the cheaper.
FILTER_WALK_BOUND = 100_000
FEW = 20_000  # filters leaving at most this many entries lead a "near" search
# ...but a profession alone: its (profession, latitude, longitude) index finds the entries of
# a disc, so only a profession this rare is read whole (20,000 entries cost ≈ 80 ms).
FEW_PLACED = 2_000
# "Near" searches read all the entries with the words up to this many.
NEAR_READ_LIMIT = {"sqlite": 25_000, "postgresql": 25_000}
FIRST_RING = 1 / 16  # the first disc of a "near" search, as a fraction of its radius
# ...with words looked up in the full-text index: each disc costs their lookup again, so
# fewer; beyond this many matches, the lookup costs more than testing the text of small discs.
FIRST_RING_INTERSECTED = 1 / 2
# With pre-counted cells, the first disc is the one they say holds the window (_dense_enough):
# cells about RING_CELLS times narrower than the radius, RING_MARGIN times the entries needed.
RING_CELLS = 4
RING_MARGIN = 1.5
NEAR_INTERSECT_LIMIT = {"sqlite": 50_000, "postgresql": 100_000}
SHORT_WORD = 2  # PostgreSQL tests words this short on the text when a longer one leads
ORDERED_READ = True  # SQLite reads word searches in the full-text index's order (_read_ordered)
EXACT_TERMS = 64  # ...each word as the indexed words it begins, up to this many
WORD_MAX = 100  # the vocabulary's words are cut at this length


@dataclass
class SearchQuery:
    q: str = ""
    kind: str = ""
    profession_code: str = ""
    savoir_faire_code: str = ""
    category_code: str = ""
    circle: str = ""
    commune: str = ""  # INSEE code
    mode: str = ""
    language: str = ""
    accepting: str = ""  # Availability.Accepting: the organisation's valid declarations
    near_commune: str = ""  # INSEE code: search around its centre…
    near_address: str = ""  # …or around this address in that commune
    radius_km: float | None = None
    page: int = 1


@dataclass
class SearchResult:
    page: Page
    words: list[str]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    origin: tuple[float, float] | None = None  # the point distances are measured from
    # More than COUNT_LIMIT results: the count says COUNT_LIMIT, pages stop there and the
    # facets count the first COUNT_LIMIT results (in their order).
    more: bool = False


KM_PER_DEGREE = 111.195  # mean length of one degree of latitude
DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 200.0


def _origin(query: SearchQuery) -> tuple[float, float] | None:
    """The point of a "near" search: the address if it is found, else the commune centre."""
    if not query.near_commune:
        return None
    commune = Commune.objects.filter(insee=query.near_commune).first()
    if commune is None:
        return None
    location = geocode(address=query.near_address, commune=commune)
    if location.latitude is None:
        return None
    return location.latitude, location.longitude


def _radius(query: SearchQuery) -> float:
    return min(query.radius_km or DEFAULT_RADIUS_KM, MAX_RADIUS_KM)


def _near(
    queryset: QuerySet, origin: tuple[float, float], radius_km: float, *, indexed: bool = True
) -> QuerySet:
    """Within the radius, with ``distance2`` (squared, in degrees of latitude).

    Distances use the equirectangular approximation (exact to a few metres at a territory's
    scale) so that both engines compute them with plain arithmetic and order them alike;
    the bounding box uses the lat/lon index (``indexed=False``: SQLite is told not to, when
    the words already select few entries)."""
    lat0, lon0 = origin
    shrink = math.cos(math.radians(lat0))
    span = radius_km / KM_PER_DEGREE
    box = (lat0 - span, lat0 + span, lon0 - span / shrink, lon0 + span / shrink)
    if indexed or connection.vendor != "sqlite":
        queryset = queryset.filter(latitude__range=box[:2], longitude__range=box[2:])
    else:  # "+column": the same test, without the index (SQLite's way to steer a plan)
        queryset = queryset.extra(  # noqa: S610
            where=[
                "+directory_searchentry.latitude BETWEEN %s AND %s",
                "+directory_searchentry.longitude BETWEEN %s AND %s",
            ],
            params=list(box),
        )
    dlat = F("latitude") - lat0
    dlon = (F("longitude") - lon0) * shrink
    return queryset.annotate(
        distance2=ExpressionWrapper(dlat * dlat + dlon * dlon, output_field=FloatField())
    ).filter(distance2__lte=span * span)


def query_words(text: str) -> list[str]:
    return [word for word in fold(text).split() if len(word) >= MIN_WORD]


def one_edit_away(word: str) -> set[str]:
    """Every spelling at one deletion, transposition, substitution or insertion."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    transposes = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in ALPHABET}
    inserts = {a + c + b for a, b in splits for c in ALPHABET}
    return (deletes | transposes | replaces | inserts) - {word}


def _starts_a_word(prefixes: Iterable[str]) -> list[str]:
    """The prefixes that begin at least one word of the vocabulary: one query, an index
    seek per prefix. A binary range: PostgreSQL's byte-wise ``~>=~``/``~<~`` operators
    read the pattern index Django made for the unique column, whatever the database's
    collation; "~" sorts after [a-z0-9]."""
    prefixes = sorted(set(prefixes))
    if not prefixes:
        return []
    if connection.vendor == "postgresql":
        sql = (
            "SELECT p FROM unnest(%s::text[]) AS p WHERE EXISTS (SELECT 1 FROM"
            " directory_searchword w WHERE w.word ~>=~ p AND w.word ~<~ (p || '~'))"
        )
        param = prefixes
    else:
        sql = (
            "SELECT p.value FROM json_each(%s) AS p WHERE EXISTS (SELECT 1 FROM"
            " directory_searchword w WHERE w.word >= p.value AND w.word < p.value || '~')"
        )
        param = json.dumps(prefixes)
    with connection.cursor() as cursor:
        cursor.execute(sql, [param])
        found = {row[0] for row in cursor.fetchall()}
    return [prefix for prefix in prefixes if prefix in found]


def word_alternatives(word: str) -> list[str]:
    """The word itself, or its spellings one typo away when it starts no indexed word."""
    if len(word) < TYPO_MIN_LENGTH or _starts_a_word([word]):
        return [word]
    return _starts_a_word(one_edit_away(word)) or [word]


def _fts_expression(alternatives: list[list[str]]) -> str:
    return " AND ".join(
        "(" + " OR ".join(f'"{spelling}"*' for spelling in spellings) + ")"
        for spellings in alternatives
    )


def _tsquery(alternatives: list[list[str]]) -> str:
    return " & ".join(
        "(" + " | ".join(f"{spelling}:*" for spelling in spellings) + ")"
        for spellings in alternatives
    )


FTS_MATCH = "SELECT rowid FROM directory_search_fts WHERE directory_search_fts MATCH %s"
STATISTICS_SECONDS = 600
# How many entries hold the words, by FTS expression (SQLite) or statistics (PostgreSQL). They
# only choose how a search is read, never what it answers, so an old figure costs time at
# worst: they are kept STATISTICS_SECONDS.
_estimates: OrderedDict = OrderedDict()


def _remembered(key, compute):
    now = time.monotonic()
    found = _estimates.get(key)
    if found is not None and now - found[0] < STATISTICS_SECONDS:
        return found[1]
    value = compute()
    _estimates[key] = (now, value)
    while len(_estimates) > 2_000:
        _estimates.popitem(last=False)
    return value


def _text_matches(alternatives: list[list[str]]) -> int:
    """About how many entries have the words: exact on SQLite (FTS5 counts its doclists,
    ≈ 15 ms for the broadest words), from the column statistics on PostgreSQL (the most
    common words and their frequencies ANALYZE keeps: a count there reads every match)."""
    if connection.vendor == "sqlite":
        expression = _fts_expression(alternatives)

        def count() -> int:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM directory_search_fts WHERE directory_search_fts MATCH %s",
                    [expression],
                )
                return cursor.fetchone()[0]

        return _remembered(("fts", expression), count)
    rows, elements, frequencies = _remembered(("pg_stats",), _pg_statistics)
    share = 1.0  # at most the share of the rarest word (words often come together)
    for spellings in alternatives:
        word_share = 0.0
        for spelling in spellings:
            start = bisect.bisect_left(elements, spelling)
            end = bisect.bisect_left(elements, spelling + "~")
            found = sum(frequencies[start:end])
            word_share += found or (frequencies[-1] if frequencies else 0.0)
        share = min(share, word_share)
    return int(rows * share)


def _pg_statistics() -> tuple[int, list[str], list[float]]:
    """Rows of the index, and its most common words with the share of rows holding each."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples, s.most_common_elems::text::text[], s.most_common_elem_freqs"
            " FROM pg_class c LEFT JOIN pg_stats s ON s.tablename = c.relname"
            " AND s.attname = 'search_vector' WHERE c.relname = 'directory_searchentry'"
        )
        row = cursor.fetchone()
    if row is None or not row[1]:
        return int(max(row[0], 0) if row else 0), [], []
    rows, elements, frequencies = row
    pairs = sorted(zip(elements, frequencies[: len(elements)], strict=True))
    floor = min(frequencies[: len(elements)])  # a word not listed is rarer than this
    return (
        int(max(rows, 0)),
        [element for element, _ in pairs],
        [frequency for _, frequency in pairs] + [floor],
    )


def _match_sql(alternatives: list[list[str]], how: str) -> tuple[str, list]:
    """A condition "the entry has every word (or one of its alternatives) as a word prefix".

    PostgreSQL: the tsvector. SQLite: "read" and "member" test membership of the FTS5 match
    (``+id``: not through the primary key, so the plan walks another index); "text" tests
    the folded text itself: its words are [a-z0-9] separated by single spaces, so a word
    begins one of them exactly when " text" contains " word"."""
    if connection.vendor == "postgresql" and how != "text":
        # A two-letter word ("de", "la") begins words in most entries: looking it up in the
        # GIN index merges enormous lists. With a longer word to find the entries, it is
        # tested on their text instead (the same rule, see "text" below).
        long, short = _long_and_short(alternatives)
        sql = "directory_searchentry.search_vector @@ to_tsquery('simple', %s)"
        text, params = _text_sql(short)
        return " AND ".join(filter(None, [sql, text])), [_tsquery(long), *params]
    if how == "text":  # both engines
        return _text_sql(alternatives)
    prefix = "" if how == "read" else "+"
    return f"{prefix}directory_searchentry.id IN ({FTS_MATCH})", [_fts_expression(alternatives)]


def _long_and_short(alternatives: list[list[str]]) -> tuple[list, list]:
    """The words looked up in the full-text index, and the two-letter ones PostgreSQL tests
    on the text instead (none when every word is that short)."""
    long = [spellings for spellings in alternatives if max(map(len, spellings)) > SHORT_WORD]
    short = [spellings for spellings in alternatives if spellings not in long]
    return (long, short) if long else (alternatives, [])


@dataclass
class _Criteria:
    """The filters of a search, split by how an index can serve them.

    ``ordered``: profession, savoir-faire, category and commune, each with an index that
    also keeps the sort order; ``rest``: the other tests on the entry; ``lead``: for the
    organisation's availability declarations, the entries of their professionals ("" :
    through ``rest``'s test), None otherwise."""

    visible: Q
    ordered: Q
    rest: Q
    lead: tuple[str, list] | None
    placed: bool = False  # a profession without a commune: its index has the positions
    covered: bool = True  # ``rest`` tests the kind or the mode alone (SQLite: _read_ordered)

    def entries(self) -> QuerySet:
        entries = SearchEntry.objects.filter(self.visible & self.ordered & self.rest)
        if self.lead and self.lead[0]:
            entries = entries.extra(where=[self.lead[0]], params=self.lead[1])  # noqa: S610
        return entries


def _among(column: str, ids: list) -> tuple[str, list]:
    """``column`` among ``ids``, sent as one parameter (see ``importing.keyed``)."""
    if connection.vendor == "postgresql":
        return f"directory_searchentry.{column} = ANY(%s)", [ids]
    sql = f"directory_searchentry.{column} IN (SELECT value FROM json_each(%s))"  # noqa: S608
    return sql, [json.dumps(ids)]


def _criteria(query: SearchQuery, organisation) -> _Criteria:
    visible = Q(organisation__isnull=True)
    if organisation is not None:
        visible |= Q(organisation=organisation)
    ordered = Q()
    for name in ("profession_code", "savoir_faire_code", "category_code"):
        if value := getattr(query, name):
            ordered &= Q(**{name: value})
    if query.commune:
        ordered &= Q(commune_id=query.commune)
    rest = Q()
    for name in ("kind", "circle", "mode"):
        if value := getattr(query, name):
            rest &= Q(**{name: value})
    if query.language:
        rest &= (
            Q(languages__contains=[query.language])
            if connection.vendor == "postgresql"
            else Q(languages__icontains=f'"{query.language}"')
        )
    if query.accepting and organisation is not None:
        declared = _availabilities(organisation).filter(accepting=query.accepting)
        rest &= Q(professional_id__in=declared.values("professional_id"))
    lead = None
    if query.accepting and organisation is not None:
        lead = ("", [])  # the organisation's declarations: few, read through professional_id
    placed = bool(query.profession_code) and not (
        query.commune or query.savoir_faire_code or query.category_code
    )
    covered = not (query.circle or query.language or (query.accepting and organisation))
    return _Criteria(visible, ordered, rest, lead, placed, covered)


def _text_sql(alternatives: list[list[str]]) -> tuple[str, list]:
    conditions, params = [], []
    for spellings in alternatives:
        tests = ["(' ' || directory_searchentry.text) LIKE %s"] * len(spellings)
        conditions.append("(" + " OR ".join(tests) + ")")
        params += [f"% {spelling}%" for spelling in spellings]
    return " AND ".join(conditions), params


def _few(queryset: QuerySet, limit: int | None = None) -> bool:
    """Whether a queryset has at most ``limit`` (FEW) rows, counted up to one more on its
    index; remembered a while, as it only chooses a plan."""
    limit = FEW if limit is None else limit
    first = queryset.order_by().values_list("pk")[: limit + 1]
    if limit < 0:
        return False
    sql, params = first.query.sql_with_params()
    return _remembered(("few", sql, tuple(map(str, params))), lambda: len(first) <= limit)


def _availabilities(organisation) -> QuerySet:
    """The organisation's availability declarations that have not expired (filtered by the
    organisation given, so usable outside a request's scope)."""
    return Availability.objects.with_scopes_disabled().filter(
        organisation=organisation, expires_on__gte=timezone.localdate()
    )


# --- Reading the window ------------------------------------------------------------------


def _plan(alternatives: list[list[str]], criteria: _Criteria) -> str:
    """How to read the window (see the comment above FACETS): "lead" (a filter picks few
    entries), "read" (the words do), "none" (no words: the filters' indexes), "walk"
    (PostgreSQL), "member" or "text" (SQLite) for words many entries have."""
    if criteria.lead is not None:
        return "lead"
    if not alternatives:
        return "none"
    matches = _text_matches(alternatives)
    if matches <= READ_LIMIT[connection.vendor]:
        return "read"
    if connection.vendor == "postgresql":
        # The estimate leaves two-letter words out ("ped le"): they leave far fewer results
        # than it says, which a walk would look for far down the sort order.
        short = _long_and_short(alternatives)[1]
        return "read" if short and matches <= WALK_BOUND["postgresql"] else "walk"
    return "member" if matches <= FTS_MEMBER_LIMIT else "text"


def _with_words(queryset: QuerySet, alternatives, how: str) -> QuerySet:
    if not alternatives:
        return queryset
    if how in ("lead", "walk", "none"):
        how = "read" if connection.vendor == "postgresql" else "member"
    sql, params = _match_sql(alternatives, how)
    return queryset.extra(where=[sql], params=params)  # noqa: S610


def _rows(queryset: QuerySet, limit: int, *, near: bool = False, sort: bool = False) -> list:
    """(id, *WINDOW, distance2 or None) of the first ``limit`` entries, in result order.

    ``sort``: order by an expression no index holds (the same order), so that the engine
    reads the entries the conditions pick and sorts them, instead of walking the sort
    index until enough turn up (which, when they are rare, reads the table)."""
    key = Concat("sort_key", Value("")) if sort else "sort_key"
    order = ("distance2", key, "id") if near else (key, "id")
    fields = ("id", *WINDOW, "distance2") if near else ("id", *WINDOW)
    rows = queryset.order_by(*order).values_list(*fields)[:limit]
    return list(rows) if near else [(*row, None) for row in rows]


def _read_ordered(criteria: _Criteria, alternatives, limit: int) -> list[tuple] | None:
    """SQLite, words and no filter but the kind or the mode: the first ``limit`` matches in
    the full-text index's own order, the sort order (see ORDERED_BELOW), so that it stops
    there instead of reading every match; with the entries written since the last rebuild
    (read whole: few), merged by sort key. None: does not apply."""
    if (
        not ORDERED_READ
        or connection.vendor != "sqlite"
        or not alternatives
        or criteria.ordered
        or not criteria.covered
        or criteria.lead is not None
    ):
        return None
    expression = _ordered_expression(alternatives)
    if expression is None:
        return []  # a word begins no indexed word
    entries = SearchEntry.objects.filter(criteria.visible & criteria.rest)
    table = connection.ops.quote_name(SearchEntry._meta.db_table)
    rows = []
    for test, order in ((f"< {ORDERED_BELOW}", True), (f">= {ORDERED_BELOW}", False)):
        found = entries.extra(  # noqa: S610
            tables=["directory_search_fts"],
            where=[
                f"{table}.id = directory_search_fts.rowid",
                "directory_search_fts MATCH %s",
                f"directory_search_fts.rowid {test}",
            ],
            params=[expression],
            order_by=["directory_search_fts.rowid"] if order else [],
        ).values_list("id", *WINDOW, "sort_key")
        sql, params = (found[:limit] if order else found).query.sql_with_params()
        # The full-text index leads (its order), each match's entry found by id.
        sql = sql.replace(
            f'FROM {table} , "directory_search_fts"',
            f'FROM "directory_search_fts" CROSS JOIN {table}',
            1,
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows += cursor.fetchall()
    if any(row[0] >= ORDERED_BELOW for row in rows):
        rows.sort(key=lambda row: (row[-1], row[0]))
    return [_window_row(row[:-1]) for row in rows[:limit]]


def _ordered_expression(alternatives: list[list[str]]) -> str | None:
    """The words as an FTS5 expression read in id order without merging whole lists first:
    a spelling of more than three letters as the indexed words it begins (a prefix query
    without a prefix index merges all their lists before giving a first match), unless it
    begins more than EXACT_TERMS of them; two or three letters through the prefix index.
    None when a word begins no indexed word (the vocabulary holds every word of three
    letters or more, see ``_write``)."""
    groups = []
    for spellings in alternatives:
        terms = []
        for spelling in spellings:
            words = []
            if len(spelling) > 3:
                found = SearchWord.objects.filter(word__gte=spelling, word__lt=spelling + "~")
                words = list(found.values_list("word", flat=True)[: EXACT_TERMS + 1])
            cut = any(len(word) >= WORD_MAX for word in words)  # cut in the vocabulary
            if len(spelling) <= 3 or len(words) > EXACT_TERMS or cut:
                terms.append(f'"{spelling}"*')
            else:
                terms += [f'"{word}"' for word in words]
        if not terms:
            return None
        groups.append("(" + " OR ".join(terms) + ")")
    return " AND ".join(groups)


def _window_row(row) -> tuple:
    """(id, *WINDOW, None) from a row read by raw SQL (SQLite gives JSON as text)."""
    row = list(row)
    languages = 1 + WINDOW.index("languages")
    if isinstance(row[languages], str):
        row[languages] = json.loads(row[languages])
    return (*row, None)


def _walk(
    criteria: _Criteria, alternatives, how: str, limit: int, bound: int
) -> tuple[list[tuple] | None, int]:
    """The first ``limit`` results, walking the sort order (of the profession's or
    commune's index when filtered so) and testing each entry, over at most ``bound``
    entries; (None, how many were found) when that was not enough and entries were left."""
    if alternatives:
        hit, params = _match_sql(alternatives, "member" if how == "walk" else how)
    else:
        hit, params = "1 = 1", []
    inner = (
        SearchEntry.objects.filter(criteria.visible & criteria.ordered)
        .order_by("sort_key", "id")
        .annotate(
            keep=ExpressionWrapper(criteria.rest, output_field=BooleanField())
            if criteria.rest
            else Value(True)
        )
        .extra(select={"hit": hit}, select_params=params)  # noqa: S610
        .values_list("id", *WINDOW, "sort_key", "keep", "hit")[:bound]
    )
    inner_sql, inner_params = inner.query.sql_with_params()
    # SQLite keeps the order of the co-routine it reads (an ORDER BY here would make it read
    # and sort all of it); PostgreSQL knows the subquery is sorted and reads on lazily.
    order = ' ORDER BY w."sort_key", w."id"' if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT * FROM ({inner_sql}) w WHERE w.hit AND w."keep"{order} LIMIT %s',  # noqa: S608
            [*inner_params, limit],
        )
        found = cursor.fetchall()
    if len(found) < limit and not _few(
        SearchEntry.objects.filter(criteria.visible & criteria.ordered), bound
    ):
        return None, len(found)  # else the walk went through every entry: that is all
    rows = [_window_row(row[:-3]) for row in found]  # without sort_key, keep and hit
    return rows, len(rows)


def _walk_or_read(criteria: _Criteria, alternatives, how: str, limit: int) -> list[tuple] | None:
    """Walk a first stretch; when it held too few results, walk far enough (judging by how
    many it held) or read the matches, whichever reads fewer entries; None: read."""
    bound = WALK_BOUND[connection.vendor] if alternatives else FILTER_WALK_BOUND
    rows, found = _walk(criteria, alternatives, how, limit, bound)
    if rows is not None or not alternatives:
        return rows
    # Reading the matches costs about as many entries as the words pick, each a lookup then
    # a sort (SQLite: as much as WALK_PER_READ entries walked); walking on, as many entries
    # as the first stretch suggests.
    if not found:
        return None
    needed = int(bound * limit / found * 1.3)
    if needed >= _text_matches(alternatives) * WALK_PER_READ[connection.vendor]:
        return None
    return _walk(criteria, alternatives, how, limit, needed)[0]


def _window(criteria: _Criteria, alternatives, origin, radius: float) -> list[tuple]:
    """The first COUNT_LIMIT + 1 results: (id, *WINDOW, distance2 or None), in order."""
    limit = COUNT_LIMIT + 1
    if origin is None and (rows := _read_ordered(criteria, alternatives, limit)) is not None:
        return rows
    how = _plan(alternatives, criteria)
    entries = criteria.entries()
    if origin is None:
        if how in ("walk", "member", "text") or (how == "none" and criteria.rest):
            # Words many entries have, or filters no index serves: walk the sort order.
            rows = _walk_or_read(criteria, alternatives, how, limit)
            if rows is not None:
                return rows
            how = "read"
        return _rows(_with_words(entries, alternatives, how), limit, sort=how != "none")
    if (
        how in ("walk", "member", "text")
        and _text_matches(alternatives) <= NEAR_READ_LIMIT[connection.vendor]
    ):
        how = "read"
    # Words many entries have, in growing discs. The broadest words (found in the first small
    # discs) are tested on the text of the entries a disc holds; the others are intersected
    # with the disc's entries (lat/lon index) before any row is read, by membership of the
    # FTS5 match (SQLite) or GIN (PostgreSQL): testing the text reads a row per entry.
    tested = how
    if how in ("member", "walk", "text"):
        broad = _text_matches(alternatives) > NEAR_INTERSECT_LIMIT[connection.vendor]
        tested = "text" if broad else ("read" if how == "walk" else "member")
    matches = _with_words(entries, alternatives, tested)
    few = how in ("read", "lead") or (
        how == "none"
        and bool(criteria.ordered)
        and _few(entries, FEW_PLACED if criteria.placed else FEW)
    )
    if few:  # few candidates: read them all, the lat/lon index would only slow it down
        return _rows(_near(matches, origin, radius, indexed=False), limit, near=True)
    share = _text_matches(alternatives) / _placed_entries() if alternatives else 1.0
    ring = _dense_enough(origin, radius, limit / min(share, 1.0))
    if ring is None:  # no pre-counted cells (a small directory): a fraction of the radius
        intersected = tested in ("read", "member") and alternatives
        ring = radius * (FIRST_RING_INTERSECTED if intersected else FIRST_RING)
    return _rings(matches, origin, radius, limit, ring)


def _placed_entries() -> int:
    """How many public entries have a position (the pre-counted cells of level 0)."""
    cells = MapCell.objects.filter(facet="", value="", level=MAP_CELL_LEVELS[0])
    return _remembered(("placed",), lambda: cells.aggregate(n=Sum("count"))["n"] or 1)


def _dense_enough(origin, radius: float, wanted: float) -> float | None:
    """The radius of the smallest disc around ``origin`` that the pre-counted cells of the
    whole directory say holds ``wanted`` entries (RING_MARGIN times more, and the width of a
    cell more), at most ``radius``; None without cells.

    Cells about RING_CELLS times narrower than the disc looked at, each taken at its
    entries' mean position: first the whole radius, then the disc found there, with finer
    cells, while it shrinks. The words and filters of a search are not counted in cells: the
    share of the entries that have them stands for them (``wanted`` is the window over that
    share), as if they were spread alike; where they are not, the disc grows (``_rings``)."""
    lat0, lon0 = origin
    shrink = math.cos(math.radians(lat0))
    ring = radius
    for level in MAP_CELL_LEVELS:
        size = 360 / 2**level
        span = ring / KM_PER_DEGREE
        if size > span / RING_CELLS and level != MAP_CELL_LEVELS[-1]:
            continue  # cells too wide for this disc
        y0, y1 = math.floor((lat0 - span) / size), math.floor((lat0 + span) / size)
        x0 = math.floor((lon0 - span / shrink) / size)
        x1 = math.floor((lon0 + span / shrink) / size)
        cells = MapCell.objects.filter(
            facet="", value="", level=level, y__range=(y0, y1), x__range=(x0, x1)
        ).values_list("count", "latitude", "longitude")
        found = sorted(
            (math.hypot(lat - lat0, (lon - lon0) * shrink) * KM_PER_DEGREE, n)
            for n, lat, lon in cells
        )
        if not found and not MapCell.objects.filter(facet="", value="").exists():
            return None
        held, smaller = 0, ring
        for distance, n in found:
            held += n
            if held >= wanted * RING_MARGIN:
                smaller = min(ring, distance + size * KM_PER_DEGREE)
                break
        if smaller > ring / 2:
            return smaller  # finer cells would not change much
        ring = smaller
    return ring


def _rings(matches: QuerySet, origin, radius: float, limit: int, first: float) -> list[tuple]:
    """The ``limit`` nearest matches within ``radius``, looked for in growing discs, from
    ``first`` (km): once a disc holds ``limit`` of them they are the nearest (anything
    farther is outside it), and the rest of the radius is never read. Each next disc is
    sized from the density the last one showed (a quarter of the area more than it
    suggests), at least twice as wide.
    """
    ring = first
    while True:
        rows = _rows(_near(matches, origin, ring), limit, near=True)
        if len(rows) == limit or ring >= radius:
            return rows
        growth = math.sqrt(limit / len(rows) * 1.25) if rows else 4.0
        ring = min(radius, ring * max(growth, 2.0))


class _Window(Sequence):
    """The window's ids in order, for the paginator; a slice reads its entries (one query)."""

    def __init__(self, rows: list[tuple]):
        self.ids = [row[0] for row in rows]
        self.distances = {row[0]: row[-1] for row in rows}

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1 or None][0]
        ids = self.ids[index]
        found = SearchEntry.objects.select_related("commune").in_bulk(ids)
        entries = [found[pk] for pk in ids if pk in found]
        for entry in entries:
            distance2 = self.distances.get(entry.pk)
            entry.distance_km = (
                None if distance2 is None else round(math.sqrt(distance2) * KM_PER_DEGREE, 2)
            )
        return entries


def _ranked(counts: Counter) -> list[tuple]:
    """(value, count), most frequent first, then by value (None last)."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0] is None, item[0] or ""))


def _facets(rows: list[tuple], organisation) -> dict[str, list[tuple]]:
    """Counts per value of each facet over the window's rows (the same on both engines)."""
    facets = {name: _ranked(Counter(row[1 + i] for row in rows)) for i, name in enumerate(FACETS)}
    languages: Counter = Counter()
    for row in rows:
        spoken = row[1 + len(FACETS)]
        if isinstance(spoken, list):
            languages.update(str(language) for language in spoken)
    facets["language"] = _ranked(languages)
    if organisation is not None:
        professionals = [row[2 + len(FACETS)] for row in rows]
        declared = dict(
            _availabilities(organisation)
            .filter(professional_id__in={pk for pk in professionals if pk is not None})
            .values_list("professional_id", "accepting")
        )
        facets["accepting"] = _ranked(
            Counter(declared[pk] for pk in professionals if pk in declared)
        )
    return facets


@contextmanager
def _reading() -> Iterator[None]:
    """PostgreSQL: no JIT compilation for a search's queries (this transaction only).

    JIT compiles queries the planner costs above ``jit_above_cost``: tens of milliseconds
    that a query reading a few thousand rows never wins back. Servers tuned for such
    traffic turn it off (``jit = off``); this keeps a default server from paying it."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def directory_search(
    *, query: SearchQuery, organisation=None, page_size: int = PAGE_SIZE
) -> SearchResult:
    """Search the directory as a member of ``organisation`` (or the public, with None)."""
    with _reading():
        return _search(query, organisation, page_size)


def _search(query: SearchQuery, organisation, page_size: int) -> SearchResult:
    words = query_words(query.q)
    alternatives = [word_alternatives(word) for word in words]
    criteria = _criteria(query, organisation)
    origin = _origin(query)
    rows = _window(criteria, alternatives, origin, _radius(query))
    more = len(rows) > COUNT_LIMIT
    rows = rows[:COUNT_LIMIT]
    page = Paginator(_Window(rows), page_size).get_page(query.page)
    facets = _facets(rows, organisation)
    return SearchResult(page=page, words=words, facets=facets, origin=origin, more=more)


# --- Public details of results, and the map ---------------------------------------------


def _public(phone: str, phone_public: bool, email: str, email_public: bool) -> dict:
    return {"phone": phone if phone_public else "", "email": email if email_public else ""}


def search_items(entries: Iterable[SearchEntry]) -> list[dict]:
    """What a result shows: name, profession, address, commune, position, PUBLIC contacts.
    One query per kind on the page (no N+1)."""
    entries = list(entries)
    wanted: dict[str, list[int]] = {}
    for entry in entries:
        wanted.setdefault(entry.kind, []).append(entry.ref_id)
    sources = {
        SearchEntry.Kind.PROFESSIONAL: PracticeSituation.objects.select_related("professional"),
        SearchEntry.Kind.STRUCTURE: Structure.objects.all(),
        SearchEntry.Kind.SERVICE: Service.objects.with_scopes_disabled().all(),
    }
    found = {kind: sources[kind].in_bulk(ids) for kind, ids in wanted.items()}
    items = []
    for entry in entries:
        source = found[entry.kind].get(entry.ref_id)
        items.append(
            {
                "id": f"{entry.kind}-{entry.ref_id}",
                "kind": entry.kind,
                "name": entry.title,
                "profession": entry.subtitle,
                "address": getattr(source, "address", ""),
                "postal_code": getattr(source, "postal_code", ""),
                "commune": entry.commune.name if entry.commune else "",
                "latitude": entry.latitude,
                "longitude": entry.longitude,
                "distance_km": getattr(entry, "distance_km", None),
                **(
                    _public(source.phone, source.phone_public, source.email, source.email_public)
                    if source
                    else {"phone": "", "email": ""}
                ),
            }
        )
    return items


MAP_MAX_POINTS = 500
MAP_GRID = 24  # cells across the viewport when points are clustered
# Up to this many entries in the viewport, their positions are read and grouped (exact
# clusters); beyond, clusters come from a grid of the whole result kept in memory (see
# _MapGrid). Searches the pre-counted cells serve use them beyond MAP_CELLS_BEYOND.
MAP_EXACT_LIMIT = 12_000
MAP_CELLS_BEYOND = 5_000
MAP_CACHE_SECONDS = 600
MAP_WIDE = 1.0  # degrees: a wider viewport of the whole directory comes from its grid
MAP_READ_LIMIT = 60_000  # words fewer entries have: read them, then test the viewport
MAP_MEMBER_RATIO = 1  # SQLite: viewport entries tested per match read, at equal cost
POSITION_INDEX = "searchentry_id_position"  # SQLite: (id, latitude, longitude, organisation_id)
MAP_CACHE_SIZE = 16  # result sets (queries) whose grids are kept


def _clusters(cells) -> list[dict]:
    clusters = [{"count": n, "latitude": lat, "longitude": lon} for n, lat, lon in cells]
    return sorted(clusters, key=lambda c: (-c["count"], c["latitude"], c["longitude"]))


def _regroup(cells, bbox) -> list[tuple[int, float, float]]:
    """(count, latitude, longitude) cells, or points, gathered in the viewport's grid."""
    west, south, east, north = bbox
    cell_lat, cell_lon = (north - south) / MAP_GRID or 1.0, (east - west) / MAP_GRID or 1.0
    grid: dict[tuple[int, int], list[float]] = {}
    for n, lat, lon in cells:
        key = (math.floor((lat - south) / cell_lat), math.floor((lon - west) / cell_lon))
        cell = grid.setdefault(key, [0, 0.0, 0.0])
        cell[0] += n
        cell[1] += lat * n
        cell[2] += lon * n
    return [(n, lat / n, lon / n) for n, lat, lon in grid.values()]


class _MapGrid:
    """The positions of one result set (a query, all of France), counted per distinct
    point, and binned on demand in global grids of 360/2^k degrees.

    A wide viewport (more than MAP_EXACT_LIMIT entries) is answered from the grid whose
    cells are at most a MAP_GRID-th of its width: its cells that touch the viewport,
    gathered in the viewport's grid. Totals and clusters are then those of whole grid cells
    (at the viewport's edges, a cell may reach a little outside it): a picture of the
    density, computed once per result set instead of reading every entry of the viewport.
    """

    def __init__(self, points: list[tuple[float, float, int]]):
        self.points = points
        self.levels: dict[int, dict[tuple[int, int], list[float]]] = {}

    def level(self, k: int) -> dict[tuple[int, int], list[float]]:
        if k not in self.levels:
            size = 360 / 2**k
            cells: dict[tuple[int, int], list[float]] = {}
            for lat, lon, n in self.points:
                cell = cells.setdefault(
                    (math.floor(lat / size), math.floor(lon / size)), [0, 0.0, 0.0]
                )
                cell[0] += n
                cell[1] += lat * n
                cell[2] += lon * n
            self.levels[k] = cells
        return self.levels[k]

    def cells(self, bbox) -> list[tuple[int, float, float]]:
        west, south, east, north = bbox
        k = _level(bbox)
        size = 360 / 2**k
        cells = self.level(k)
        x0, x1 = math.floor(west / size), math.floor(east / size)
        y0, y1 = math.floor(south / size), math.floor(north / size)
        found = []
        if (x1 - x0 + 1) * (y1 - y0 + 1) <= len(cells):
            for x in range(x0, x1 + 1):
                for y in range(y0, y1 + 1):
                    if (cell := cells.get((y, x))) is not None:
                        found.append(cell)
        else:
            found = [c for (y, x), c in cells.items() if x0 <= x <= x1 and y0 <= y <= y1]
        return [(n, lat / n, lon / n) for n, lat, lon in found]


_map_grids: OrderedDict = OrderedDict()


def _map_grid(key: tuple, points) -> _MapGrid:
    """The grid of a result set (``points()`` reads its positions), from the process's cache
    when the index has not changed (its highest id, checked on each use) and it is less than
    MAP_CACHE_SECONDS old."""
    version = SearchEntry.objects.aggregate(last=Max("id"))["last"]
    now = time.monotonic()
    cached = _map_grids.get(key)
    if cached is not None and cached[0] == version and now - cached[1] < MAP_CACHE_SECONDS:
        _map_grids.move_to_end(key)
        return cached[2]
    grid = _MapGrid(points())
    _map_grids[key] = (version, now, grid)
    while len(_map_grids) > MAP_CACHE_SIZE:
        _map_grids.popitem(last=False)
    return grid


def map_cache_clear() -> None:
    _map_grids.clear()


def _plain_points(organisation, bbox=None) -> list[tuple[float, float, int]]:
    """(latitude, longitude, entries) of everything the organisation (or the public) sees,
    read from the lat/lon index alone: all entries, less the services of the others (few,
    found through their organisation) - the visibility test would otherwise read each row."""
    everything = SearchEntry.objects.filter(latitude__isnull=False, longitude__isnull=False)
    hidden = SearchEntry.objects.filter(organisation__isnull=False)
    if organisation is not None:
        hidden = hidden.exclude(organisation=organisation)
    if bbox is not None:
        west, south, east, north = bbox
        box = {"latitude__range": (south, north), "longitude__range": (west, east)}
        everything, hidden = everything.filter(**box), hidden.filter(**box)
    counts: dict[tuple[float, float], int] = {}
    for queryset, sign in ((everything, 1), (hidden, -1)):
        rows = queryset.order_by().values_list("latitude", "longitude").annotate(n=Count("id"))
        for lat, lon, n in rows:
            counts[(lat, lon)] = counts.get((lat, lon), 0) + sign * n
    return sorted((lat, lon, n) for (lat, lon), n in counts.items() if n > 0)


def directory_map(
    *, query: SearchQuery, bbox: tuple[float, float, float, float], organisation=None
) -> dict:
    """Points in a viewport (west, south, east, north), or clusters when there are too many
    (see ``_map``)."""
    with _reading():
        return _map(query, bbox, organisation)


def _level(bbox) -> int:
    """The level of the global grids whose cells are at most a MAP_GRID-th of the width."""
    west, _south, east, _north = bbox
    return max(0, math.ceil(math.log2(360 * MAP_GRID / max(east - west, 1e-9))))


def _precounted(
    query: SearchQuery, bbox, organisation, *, coarser: bool = False
) -> list[tuple[int, float, float]] | None:
    """(count, latitude, longitude) of the pre-counted cells that touch the viewport, for a
    search with no filter or one of MAP_CELL_FACETS alone; None when there are none (other
    filters, words, a facet value with few entries, a viewport narrower than its finest
    cells - ``coarser``: then those - or cells not counted yet). An organisation's own
    services are added to them."""
    facets = [(name, getattr(query, name)) for name in MAP_CELL_FACETS if getattr(query, name)]
    others = (query.q, query.commune, query.circle, query.language, query.near_commune)
    if len(facets) > 1 or any(others) or (query.accepting and organisation is not None):
        return None
    facet, value = facets[0] if facets else ("", "")
    cells = MapCell.objects.filter(facet=facet, value=value)
    finest = cells.aggregate(finest=Max("level"))["finest"]
    if finest is None:
        return None
    level = next((level for level in MAP_CELL_LEVELS if level >= _level(bbox)), finest + 1)
    if level > finest:
        if not coarser:
            return None
        level = finest
    west, south, east, north = bbox
    size = 360 / 2**level
    y0, y1 = math.floor(south / size), math.floor(north / size)
    x0, x1 = math.floor(west / size), math.floor(east / size)
    found = list(
        cells.filter(level=level, y__range=(y0, y1), x__range=(x0, x1)).values_list(
            "count", "latitude", "longitude"
        )
    )
    if organisation is not None:  # its services (few), binned alike
        own = SearchEntry.objects.filter(
            organisation=organisation, latitude__isnull=False, longitude__isnull=False
        )
        own = own.filter(**{facet: value}) if facet else own
        binned: dict[tuple[int, int], list] = {}
        for lat, lon in own.values_list("latitude", "longitude"):
            key = (math.floor(lat / size), math.floor(lon / size))
            if y0 <= key[0] <= y1 and x0 <= key[1] <= x1:
                cell = binned.setdefault(key, [0, 0.0, 0.0])
                cell[0] += 1
                cell[1] += lat
                cell[2] += lon
        found += [(n, lat / n, lon / n) for n, lat, lon in binned.values()]
    return found


def _map(query: SearchQuery, bbox: tuple[float, float, float, float], organisation) -> dict:
    """Points, or clusters: exact (the viewport's entries, grouped) except where reading
    every entry of the viewport would be too slow: more than MAP_EXACT_LIMIT entries in the
    viewport. Those come from the pre-counted cells (``MapCell``) for the whole directory
    or one facet value alone (from MAP_CELLS_BEYOND entries: a few hundred rows instead of
    thousands); else, from the grid of the whole result set (see _MapGrid),
    kept MAP_CACHE_SECONDS by the process, or for the whole directory on a viewport up to
    MAP_WIDE degrees, from the lat/lon index alone.
    """
    west, south, east, north = bbox
    cells = _precounted(query, bbox, organisation)
    plain = not any(value for name, value in vars(query).items() if name != "page")
    if (
        cells is not None
        and (total := sum(n for n, _, _ in cells)) > MAP_MAX_POINTS
        and (
            total > MAP_CELLS_BEYOND or (plain and east - west > MAP_WIDE)  # as from its grid
        )
    ):
        cells = _regroup(cells, bbox)
        return {"total": sum(n for n, _, _ in cells), "points": [], "clusters": _clusters(cells)}
    alternatives = [word_alternatives(word) for word in query_words(query.q)]
    criteria = _criteria(query, organisation)
    how = _plan(alternatives, criteria)
    entries = criteria.entries()
    # Fewer candidates than entries in the viewport (the words, or a profession's or
    # commune's index, pick them): read them and test the viewport on each; else the
    # lat/lon index finds the viewport's entries and the rest is tested on each of them.
    # The viewport's entries are counted on the cells (or grid) of the whole directory.
    if how == "lead":
        few = True
    elif _viewport_test(alternatives) == "member":
        # SQLite tests membership of the match for about a third of what reading a match
        # costs: the viewport's entries are walked unless they outnumber the matches 3 to 1.
        few = MAP_MEMBER_RATIO * _text_matches(alternatives) <= _viewport(organisation, bbox)
    elif how == "read":
        few = True
    elif alternatives:
        few = _text_matches(alternatives) <= max(MAP_READ_LIMIT, _viewport(organisation, bbox))
    elif criteria.ordered:
        in_viewport = _viewport(organisation, bbox)
        few = _count(SearchEntry.objects.filter(criteria.ordered), in_viewport + 1) <= in_viewport
    else:
        few = False
    matches = _with_words(entries, alternatives, "read" if few else _viewport_test(alternatives))
    everywhere = _with_words(entries, alternatives, "read")  # the whole result set, once
    origin = _origin(query)
    if origin is not None:  # the list's radius applies to the map too
        radius = _radius(query)
        matches = _near(matches, origin, radius, indexed=not few)
        everywhere = _near(everywhere, origin, radius, indexed=False)
    inside = _inside(matches, bbox, indexed=not few)
    plain = not alternatives and origin is None and not (criteria.ordered or criteria.rest)
    # A search's viewport is read once: its positions, with the entries' ids (its points'
    # details are read by id when there are few); the whole directory's, only if few.
    positions = None if plain else _positions(inside)
    if positions is None:
        first = inside.order_by().values_list("id")[: MAP_MAX_POINTS + 1]
        ids = [pk for (pk,) in first]
    else:
        ids = [pk for pk, _lat, _lon in positions[: MAP_MAX_POINTS + 1]]
    if len(ids) <= MAP_MAX_POINTS:
        details = SearchEntry.objects.filter(id__in=ids).values_list(
            "sort_key", "id", "kind", "ref_id", "title", "latitude", "longitude"
        )
        return {
            "total": len(ids),
            "points": [
                {"id": f"{kind}-{ref}", "name": title, "latitude": lat, "longitude": lon}
                for _key, _id, kind, ref, title, lat, lon in sorted(details)
            ],
            "clusters": [],
        }
    key = (tuple(sorted(vars(replace(query, page=1)).items())), getattr(organisation, "pk", None))
    if plain and east - west <= MAP_WIDE:
        points = _plain_points(organisation, bbox)
        cells = _regroup(((n, lat, lon) for lat, lon, n in points), bbox)
    elif plain:
        grid = _map_grid(
            ("plain", getattr(organisation, "pk", None)), lambda: _plain_points(organisation)
        )
        cells = _regroup(grid.cells(bbox), bbox)
    elif len(positions) <= MAP_EXACT_LIMIT:
        # the viewport's entries, grouped here: the one reading that also counted them
        counted = sorted(Counter((lat, lon) for _pk, lat, lon in positions).items())
        cells = _regroup(((n, lat, lon) for (lat, lon), n in counted), bbox)
    else:
        grid = _map_grid(key, lambda: _points(everywhere))
        cells = _regroup(grid.cells(bbox), bbox)
    return {"total": sum(n for n, _lat, _lon in cells), "points": [], "clusters": _clusters(cells)}


def _positions(inside: QuerySet) -> list[tuple[int, float, float]]:
    """(id, latitude, longitude) of the viewport's entries, one more than they are read for
    at most (MAP_EXACT_LIMIT, or MAP_MAX_POINTS)."""
    rows = inside.order_by().values_list("id", "latitude", "longitude")
    return _by_id(rows[: max(MAP_EXACT_LIMIT, MAP_MAX_POINTS) + 1])


def _by_id(queryset: QuerySet) -> list[tuple]:
    """The rows of a queryset; on SQLite, when it reads the matches of words by id ("read"),
    through the index of their positions by id (migration 0018), not their rows."""
    sql, params = queryset.query.sql_with_params()
    table = connection.ops.quote_name(SearchEntry._meta.db_table)
    if connection.vendor != "sqlite" or f"(directory_searchentry.id IN ({FTS_MATCH}" not in sql:
        return list(queryset)
    sql = sql.replace(f"FROM {table}", f"FROM {table} INDEXED BY {POSITION_INDEX}", 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _viewport_test(alternatives) -> str:
    """How the words are tested on the entries of a viewport: SQLite tests membership of
    the FTS5 match (its rowids, gathered once, against the lat/lon index's: no row is read
    but the matches') while they are not too many to gather; PostgreSQL intersects the
    viewport's entries (lat/lon index) with the words' (GIN) unless they are among the
    broadest; else the folded text of each entry."""
    if not alternatives:
        return "text"
    matches = _text_matches(alternatives)
    if connection.vendor == "sqlite" and matches <= FTS_MEMBER_LIMIT:
        return "member"
    if connection.vendor == "postgresql" and matches <= NEAR_INTERSECT_LIMIT["postgresql"]:
        return "read"
    return "text"


def _viewport(organisation, bbox) -> int:
    """About how many entries the viewport holds (whole grid cells): from the pre-counted
    cells, else from the grid of the whole directory (computed once, then kept)."""
    cells = _precounted(SearchQuery(), bbox, organisation, coarser=True)
    if cells is not None:
        return sum(n for n, _lat, _lon in cells)
    grid = _map_grid(
        ("plain", getattr(organisation, "pk", None)), lambda: _plain_points(organisation)
    )
    return sum(n for n, _lat, _lon in grid.cells(bbox))


def _count(queryset: QuerySet, cap: int) -> int:
    """How many rows, counted up to ``cap``, remembered a while (it only chooses a plan)."""
    if cap <= 0:
        return 0
    first = queryset.order_by().values_list("pk")[:cap]
    sql, params = first.query.sql_with_params()
    return _remembered(("count", sql, tuple(map(str, params))), lambda: len(first))


def _inside(queryset: QuerySet, bbox, *, indexed: bool) -> QuerySet:
    west, south, east, north = bbox
    if indexed or connection.vendor != "sqlite":
        return queryset.filter(latitude__range=(south, north), longitude__range=(west, east))
    return queryset.extra(  # noqa: S610 ("+column": the same test, without the index)
        where=[
            "+directory_searchentry.latitude BETWEEN %s AND %s",
            "+directory_searchentry.longitude BETWEEN %s AND %s",
        ],
        params=[south, north, west, east],
    )


def _points(queryset: QuerySet) -> list[tuple[float, float, int]]:
    rows = (
        queryset.filter(latitude__isnull=False, longitude__isnull=False)
        .order_by()
        .values_list("latitude", "longitude")
        .annotate(n=Count("id"))
    )
    return sorted(_by_id(rows))
