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

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import (
    Avg,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Floor
from django.utils import timezone

from parcours.lib.text import fold
from parcours.territory.models import Commune

from .geocoding import geocode
from .importing import batches
from .models import (
    Availability,
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


def _situation_entry(situation: PracticeSituation) -> SearchEntry:
    person = situation.professional
    commune = situation.commune
    title = f"{person.first_name} {person.last_name}".strip()
    subtitle = " · ".join(filter(None, [person.profession, person.savoir_faire]))
    words = [
        title,
        person.profession,
        person.savoir_faire,
        situation.place_name,
        commune.name if commune else "",
        situation.postal_code,
    ]
    return SearchEntry(
        kind=SearchEntry.Kind.PROFESSIONAL,
        ref_id=situation.pk,
        professional_id=person.pk,
        title=title,
        subtitle=subtitle,
        sort_key=fold(f"{person.last_name} {person.first_name}"),
        text=fold(" ".join(words)),
        profession_code=person.profession_code,
        savoir_faire_code=person.savoir_faire_code,
        mode=situation.mode,
        languages=person.languages,
        commune_id=situation.commune_id,
        latitude=situation.latitude,
        longitude=situation.longitude,
    )


def _structure_entry(structure: Structure) -> SearchEntry:
    commune = structure.commune
    words = [
        structure.name,
        structure.long_name,
        structure.category,
        commune.name if commune else "",
        structure.postal_code,
    ]
    return SearchEntry(
        kind=SearchEntry.Kind.STRUCTURE,
        ref_id=structure.pk,
        title=structure.name,
        subtitle=structure.category,
        sort_key=fold(structure.name),
        text=fold(" ".join(words)),
        category_code=structure.category_code,
        commune_id=structure.commune_id,
        latitude=structure.latitude,
        longitude=structure.longitude,
    )


def _service_entry(service: Service) -> SearchEntry:
    commune = service.commune
    words = [
        service.name,
        service.category,
        " ".join(service.thematiques),
        commune.name if commune else "",
        service.postal_code,
    ]
    return SearchEntry(
        kind=SearchEntry.Kind.SERVICE,
        ref_id=service.pk,
        organisation_id=service.organisation_id,
        title=service.name,
        subtitle=service.category,
        sort_key=fold(service.name),
        text=fold(" ".join(words)),
        category_code=fold(service.category)[:20],
        circle=service.circle,
        languages=service.languages,
        commune_id=service.commune_id,
        latitude=service.latitude,
        longitude=service.longitude,
    )


SOURCES = {
    SearchEntry.Kind.PROFESSIONAL: (
        lambda: PracticeSituation.objects.filter(
            is_active=True, professional__is_active=True
        ).select_related("professional", "commune"),
        _situation_entry,
    ),
    SearchEntry.Kind.STRUCTURE: (
        lambda: Structure.objects.filter(is_active=True).select_related("commune"),
        _structure_entry,
    ),
    SearchEntry.Kind.SERVICE: (
        lambda: (
            Service.objects.with_scopes_disabled().filter(is_active=True).select_related("commune")
        ),
        _service_entry,
    ),
}


def search_index_refresh(*, kind: str, ids: Iterable[int] | None = None) -> int:
    """Rebuild the entries of one kind (all, or those of the given source ids)."""
    source, build = SOURCES[SearchEntry.Kind(kind)]
    rows = source()
    stale = SearchEntry.objects.filter(kind=kind)
    if ids is not None:
        ids = list(ids)
        rows, stale = rows.filter(pk__in=ids), stale.filter(ref_id__in=ids)
    created = 0
    with transaction.atomic():
        stale.delete()
        for batch in batches(rows.order_by("pk").iterator(chunk_size=2000), 2000):
            entries = SearchEntry.objects.bulk_create([build(row) for row in batch])
            _vocabulary_add(entries)
            created += len(batch)
    return created


def _vocabulary_add(entries: list[SearchEntry]) -> None:
    words = {
        word
        for entry in entries
        for word in entry.text.split()
        if len(word) >= VOCABULARY_MIN_LENGTH
    }
    SearchWord.objects.bulk_create(
        [SearchWord(word=word[:100]) for word in words], ignore_conflicts=True
    )


def search_index_rebuild() -> dict[str, int]:
    return {kind: search_index_refresh(kind=kind) for kind in SearchEntry.Kind.values}


# --- Querying --------------------------------------------------------------------------

FACETS = (
    "kind",
    "profession_code",
    "savoir_faire_code",
    "category_code",
    "circle",
    "commune",
    "mode",
)


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


def _near(queryset: QuerySet, origin: tuple[float, float], radius_km: float) -> QuerySet:
    """Within the radius, nearest first. Distances use the equirectangular approximation
    (exact to a few metres at a territory's scale) so that both engines compute them with
    plain arithmetic and order them alike; the bounding box uses the lat/lon index."""
    lat0, lon0 = origin
    shrink = math.cos(math.radians(lat0))
    span = radius_km / KM_PER_DEGREE
    dlat = F("latitude") - lat0
    dlon = (F("longitude") - lon0) * shrink
    return (
        queryset.filter(
            latitude__range=(lat0 - span, lat0 + span),
            longitude__range=(lon0 - span / shrink, lon0 + span / shrink),
        )
        .annotate(distance2=ExpressionWrapper(dlat * dlat + dlon * dlon, output_field=FloatField()))
        .filter(distance2__lte=span * span)
    )


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
    """The prefixes that begin at least one word of the vocabulary (indexed range queries,
    by groups small enough for SQLite's expression depth limit)."""
    prefixes = sorted(prefixes)
    vocabulary: list[str] = []
    for group in batches(prefixes, 150):
        condition = Q()
        for prefix in group:
            condition |= Q(word__gte=prefix, word__lt=prefix + "~")  # "~" sorts after [a-z0-9]
        vocabulary += SearchWord.objects.filter(condition).values_list("word", flat=True)
    return [p for p in prefixes if any(word.startswith(p) for word in vocabulary)]


def word_alternatives(word: str) -> list[str]:
    """The word itself, or its spellings one typo away when it starts no indexed word."""
    if len(word) < TYPO_MIN_LENGTH or _starts_a_word([word]):
        return [word]
    return _starts_a_word(one_edit_away(word)) or [word]


def _match(queryset: QuerySet, words: list[str]) -> QuerySet:
    """Entries whose text has every word (or one of its alternatives) as a word prefix."""
    if not words:
        return queryset
    alternatives = [word_alternatives(word) for word in words]
    if connection.vendor == "postgresql":
        expression = " & ".join(
            "(" + " | ".join(f"{spelling}:*" for spelling in spellings) + ")"
            for spellings in alternatives
        )
        return queryset.extra(
            where=["search_vector @@ to_tsquery('simple', %s)"], params=[expression]
        )
    expression = " AND ".join(
        "(" + " OR ".join(f'"{spelling}"*' for spelling in spellings) + ")"
        for spellings in alternatives
    )
    return queryset.extra(
        where=[
            "directory_searchentry.id IN (SELECT rowid FROM directory_search_fts"
            " WHERE directory_search_fts MATCH %s)"
        ],
        params=[expression],
    )


def _filters(query: SearchQuery, organisation) -> Q:
    visible = Q(organisation__isnull=True)
    if organisation is not None:
        visible |= Q(organisation=organisation)
    filters = visible
    for name in ("kind", "profession_code", "savoir_faire_code", "category_code", "circle", "mode"):
        if value := getattr(query, name):
            filters &= Q(**{name: value})
    if query.commune:
        filters &= Q(commune_id=query.commune)
    if query.language:
        filters &= (
            Q(languages__contains=[query.language])
            if connection.vendor == "postgresql"
            else Q(languages__icontains=f'"{query.language}"')
        )
    if query.accepting and organisation is not None:
        declared = _availabilities(organisation).filter(accepting=query.accepting)
        filters &= Q(professional_id__in=declared.values("professional_id"))
    return filters


def _availabilities(organisation) -> QuerySet:
    """The organisation's availability declarations that have not expired (filtered by the
    organisation given, so usable outside a request's scope)."""
    return Availability.objects.with_scopes_disabled().filter(
        organisation=organisation, expires_on__gte=timezone.localdate()
    )


def _accepting_facet(matches: QuerySet, organisation) -> list[tuple[str, int]]:
    """Matches per answer of the organisation's valid declarations (at most one per GP)."""
    declared = _availabilities(organisation).filter(professional_id=OuterRef("professional_id"))
    rows = (
        matches.order_by()
        .annotate(accepting=Subquery(declared.values("accepting")[:1]))
        .filter(accepting__isnull=False)
        .values_list("accepting")
        .annotate(n=Count("id"))
    )
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def _language_facet(matches: QuerySet) -> list[tuple[str, int]]:
    """Matches per language spoken (the elements of the JSON lists), same on both engines."""
    ids_sql, params = matches.order_by().values("id").query.sql_with_params()  # Django's SQL
    if connection.vendor == "postgresql":
        elements = "CROSS JOIN LATERAL jsonb_array_elements_text(e.languages) AS j(value)"
        is_list = "jsonb_typeof(e.languages) = 'array'"
    else:
        elements, is_list = ", json_each(e.languages) j", "json_type(e.languages) = 'array'"
    sql = (
        f"SELECT j.value, COUNT(*) FROM directory_searchentry e {elements}"  # noqa: S608
        f" WHERE {is_list} AND e.id IN ({ids_sql}) GROUP BY j.value"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return sorted(((str(lang), n) for lang, n in rows), key=lambda row: (-row[1], row[0]))


def directory_search(
    *, query: SearchQuery, organisation=None, page_size: int = PAGE_SIZE
) -> SearchResult:
    """Search the directory as a member of ``organisation`` (or the public, with None)."""
    words = query_words(query.q)
    matches = _match(SearchEntry.objects.filter(_filters(query, organisation)), words)
    origin = _origin(query)
    order = ("sort_key", "id")
    if origin is not None:
        radius = min(query.radius_km or DEFAULT_RADIUS_KM, MAX_RADIUS_KM)
        matches = _near(matches, origin, radius)
        order = ("distance2", "sort_key", "id")
    ordered = matches.order_by(*order).select_related("commune")
    page = Paginator(ordered, page_size).get_page(query.page)
    for entry in page:
        distance2 = getattr(entry, "distance2", None)
        entry.distance_km = (
            None if distance2 is None else round(math.sqrt(distance2) * KM_PER_DEGREE, 2)
        )
    facets = {
        name: list(
            matches.order_by().values_list(name).annotate(n=Count("id")).order_by("-n", name)
        )
        for name in FACETS
    }
    facets["language"] = _language_facet(matches)
    if organisation is not None:
        facets["accepting"] = _accepting_facet(matches, organisation)
    return SearchResult(page=page, words=words, facets=facets, origin=origin)


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


def directory_map(
    *, query: SearchQuery, bbox: tuple[float, float, float, float], organisation=None
) -> dict:
    """Points in a viewport (west, south, east, north), or clusters when there are too many."""
    west, south, east, north = bbox
    matches = _match(
        SearchEntry.objects.filter(_filters(query, organisation)), query_words(query.q)
    )
    inside = matches.filter(latitude__range=(south, north), longitude__range=(west, east))
    origin = _origin(query)
    if origin is not None:  # the list's radius applies to the map too
        inside = _near(inside, origin, min(query.radius_km or DEFAULT_RADIUS_KM, MAX_RADIUS_KM))
    total = inside.count()
    if total <= MAP_MAX_POINTS:
        points = inside.order_by("sort_key", "id").values_list(
            "kind", "ref_id", "title", "latitude", "longitude"
        )
        return {
            "total": total,
            "points": [
                {"id": f"{kind}-{ref}", "name": title, "latitude": lat, "longitude": lon}
                for kind, ref, title, lat, lon in points
            ],
            "clusters": [],
        }
    cell_lat, cell_lon = (north - south) / MAP_GRID or 1.0, (east - west) / MAP_GRID or 1.0
    cells = (
        inside.order_by()
        .annotate(
            cell_y=Floor((F("latitude") - south) / cell_lat),
            cell_x=Floor((F("longitude") - west) / cell_lon),
        )
        .values("cell_y", "cell_x")
        .annotate(count=Count("id"), latitude=Avg("latitude"), longitude=Avg("longitude"))
    )
    clusters = [
        {"count": c["count"], "latitude": c["latitude"], "longitude": c["longitude"]} for c in cells
    ]
    return {"total": total, "points": [], "clusters": sorted(clusters, key=lambda c: -c["count"])}
