"""Reads for the annuaire pages: the public annuaire and the staff search.

The search itself is ``search.directory_search``; this module finds the commune a person
typed, names the facet values, and builds what a result or an entry's page shows. The
public pages get public contact fields only (``search.search_items``); staff pages add the
private ones and the organisation's availability declarations.
"""

import re
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parcours.lib.text import fold
from parcours.territory.models import Commune

from .hours import format_opening_hours
from .hsds import LANGUAGE_NAMES
from .models import (
    Availability,
    Circle,
    LocationPrecision,
    PracticeSituation,
    Professional,
    SearchEntry,
    Service,
    Source,
    Structure,
)
from .search import search_items

LABEL_CACHE_SECONDS = 3600
MODES = dict(PracticeSituation.Mode.choices)
MAX_COMMUNE_CHOICES = 10

# --- The commune a person typed --------------------------------------------------------------

_CODE_IN_BRACKETS = re.compile(r"\((\d[\dAB]\d{3})\)\s*$", re.IGNORECASE)
_POSTAL_CODE = re.compile(r"^\d{5}$")
_INSEE_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$", re.IGNORECASE)
_VARIANTS = {
    "a": "aàâäáã",
    "c": "cç",
    "e": "eéèêë",
    "i": "iîïí",
    "n": "nñ",
    "o": "oôöó",
    "u": "uùûüú",
    "y": "yÿ",
}
MAIN_KINDS = (Commune.Kind.COMMUNE, Commune.Kind.ARRONDISSEMENT)


def _name_pattern(text: str) -> str:
    """A regular expression matching the commune names that fold to the same words, written
    for both engines (Python's re on SQLite, POSIX on PostgreSQL): accented letters in
    both cases spelled out, words separated by spaces, hyphens or apostrophes."""
    words = []
    for word in fold(text).split():
        pattern, i = "", 0
        while i < len(word):
            if word.startswith("oe", i) or word.startswith("ae", i):
                pair = word[i : i + 2]
                ligature = "œŒ" if pair == "oe" else "æÆ"
                pattern += f"({pair}|[{ligature}])"
                i += 2
                continue
            variants = _VARIANTS.get(word[i], word[i])
            pattern += f"[{variants}{variants.upper()}]" if len(variants) > 1 else word[i]
            i += 1
        words.append(pattern)
    return "^" + "[ '’-]+".join(words)


def _prefer_main(communes: list[Commune]) -> list[Commune]:
    """Communes and arrondissements before delegated or associated communes; an
    arrondissement rather than its city when both match (Lyon 8e for 69008)."""
    main = [c for c in communes if c.kind in MAIN_KINDS] or communes
    cities = {c.parent_id for c in main if c.kind == Commune.Kind.ARRONDISSEMENT}
    return [c for c in main if c.insee not in cities] or main


def commune_lookup(text: str) -> list[Commune]:
    """The communes matching what a person typed: "Vénissieux", "venissieux", "69200"
    (postal code), "69259" (INSEE code) or "Vénissieux (69259)". Several means ambiguous;
    none means unknown."""
    text = (text or "").strip()[:100]
    if not text:
        return []
    communes = Commune.objects.order_by("name", "insee")
    if code := _CODE_IN_BRACKETS.search(text):
        return list(communes.filter(insee=code.group(1).upper()))
    if _POSTAL_CODE.match(text):
        by_postal_code = list(communes.filter(postal_codes__icontains=f'"{text}"'))
        if by_postal_code:
            return _prefer_main(by_postal_code)[:MAX_COMMUNE_CHOICES]
    if _INSEE_CODE.match(text):
        return list(communes.filter(insee=text.upper()))
    if not fold(text):
        return []
    pattern = _name_pattern(text)
    exact = list(communes.filter(name__iregex=pattern + "$"))
    if exact:
        return _prefer_main(exact)[:MAX_COMMUNE_CHOICES]
    return list(communes.filter(name__iregex=pattern, kind__in=MAIN_KINDS)[:MAX_COMMUNE_CHOICES])


def commune_label(commune: Commune) -> str:
    """What the commune field shows once resolved (and what it reads back unambiguously)."""
    return f"{commune.name} ({commune.insee})"


# --- Names of facet values -------------------------------------------------------------------

FACET_TITLES = {
    "kind": gettext_lazy("Type de fiche"),
    "profession_code": gettext_lazy("Profession"),
    "savoir_faire_code": gettext_lazy("Spécialité"),
    "category_code": gettext_lazy("Catégorie"),
    "circle": gettext_lazy("Cercle"),
    "commune": gettext_lazy("Commune"),
    "mode": gettext_lazy("Mode d'exercice"),
    "language": gettext_lazy("Langue parlée"),
    "accepting": gettext_lazy("Accepte de nouveaux patients"),
}


def _cached_labels(prefix: str, codes: list[str], lookup) -> dict[str, str]:
    """Labels of codes, from the cache or ``lookup(missing codes) -> {code: label}``."""
    keys = {code: f"annuaire-label:{prefix}:{fold(code).replace(' ', '_')}" for code in codes}
    cached = cache.get_many(list(keys.values()))
    labels = {code: cached[key] for code, key in keys.items() if key in cached}
    missing = [code for code in codes if code not in labels]
    if missing:
        found = lookup(missing)
        cache.set_many(
            {keys[code]: label for code, label in found.items()}, timeout=LABEL_CACHE_SECONDS
        )
        labels.update(found)
    return labels


def _first_label(model, code_field: str, label_field: str, codes: list[str]) -> dict[str, str]:
    """One indexed lookup per code (a national table: never a scan of every row)."""
    labels = {}
    for code in codes:
        found = (
            model.objects.filter(**{code_field: code})
            .exclude(**{label_field: ""})
            .order_by()
            .values_list(label_field, flat=True)[:1]
        )
        if found:
            labels[code] = found[0]
    return labels


def profession_labels(codes: list[str]) -> dict[str, str]:
    return _cached_labels(
        "profession",
        codes,
        lambda missing: _first_label(Professional, "profession_code", "profession", missing),
    )


def profession_choices() -> list[tuple[str, str]]:
    """Every profession in the directory, by name (for the search form's list)."""
    choices = cache.get("annuaire-professions")
    if choices is None:
        codes = list(
            Professional.objects.order_by("profession_code")
            .values_list("profession_code", flat=True)
            .distinct()
        )
        labels = profession_labels([code for code in codes if code])
        choices = sorted(labels.items(), key=lambda item: fold(item[1]))
        cache.set("annuaire-professions", choices, timeout=LABEL_CACHE_SECONDS)
    return choices


def _category_labels(codes: list[str], organisation) -> dict[str, str]:
    labels = _cached_labels(
        "category",
        codes,
        lambda missing: _first_label(Structure, "category_code", "category", missing),
    )
    if organisation is not None:  # services: the code is the folded category
        for category in (
            Service.objects.filter(organisation=organisation)
            .values_list("category", flat=True)
            .distinct()
        ):
            labels.setdefault(fold(category)[:20], category)
    return labels


def facet_labels(name: str, codes: list[str], organisation=None) -> dict[str, str]:
    """``{code: label}`` for the values of one facet."""
    if name == "kind":
        return dict(SearchEntry.Kind.choices)
    if name == "circle":
        return dict(Circle.choices)
    if name == "mode":
        return dict(PracticeSituation.Mode.choices)
    if name == "accepting":
        return dict(Availability.Accepting.choices)
    if name == "language":
        return {code: LANGUAGE_NAMES.get(code, code) for code in codes}
    if name == "commune":
        return {insee: c.name for insee, c in Commune.objects.in_bulk(codes).items()}
    if name == "profession_code":
        return profession_labels(codes)
    if name == "savoir_faire_code":
        return _cached_labels(
            "savoir-faire",
            codes,
            lambda missing: _first_label(
                Professional, "savoir_faire_code", "savoir_faire", missing
            ),
        )
    if name == "category_code":
        return _category_labels(codes, organisation)
    return {}


# --- Results and entries ------------------------------------------------------------------


def _visible(organisation) -> Q:
    """National entries for everyone; services of the organisation for its members."""
    visible = Q(organisation__isnull=True)
    if organisation is not None:
        visible |= Q(organisation=organisation)
    return visible


def _valid_availabilities(organisation, professional_ids) -> dict[int, Availability]:
    if organisation is None or not professional_ids:
        return {}
    declarations = Availability.objects.filter(
        organisation=organisation,
        professional_id__in=professional_ids,
        expires_on__gte=timezone.localdate(),
    )
    return {a.professional_id: a for a in declarations}


def _all_contacts(entries: list[SearchEntry]) -> dict[tuple[str, int], dict]:
    """Every contact field, public or not (staff pages only)."""
    sources = {
        SearchEntry.Kind.PROFESSIONAL: PracticeSituation.objects.all(),
        SearchEntry.Kind.STRUCTURE: Structure.objects.all(),
        SearchEntry.Kind.SERVICE: Service.objects.all(),
    }
    contacts = {}
    for kind, source in sources.items():
        ids = [entry.ref_id for entry in entries if entry.kind == kind]
        if ids:
            rows = source.filter(pk__in=ids).values(
                "pk", "phone", "phone_public", "email", "email_public"
            )
            contacts.update({(kind, row.pop("pk")): row for row in rows})
    return contacts


def annuaire_items(entries, *, organisation=None, private: bool = False) -> list[dict]:
    """What each result shows. Public: ``search_items`` (public contacts only). Private
    (staff of ``organisation``): every contact field, and GPs' valid declarations."""
    entries = list(entries)
    items = search_items(entries)
    contacts = _all_contacts(entries) if private else {}
    declared = (
        _valid_availabilities(organisation, {e.professional_id for e in entries}) if private else {}
    )
    for item, entry in zip(items, entries, strict=True):
        item.update(
            ref_id=entry.ref_id,
            kind_label=SearchEntry.Kind(entry.kind).label,
            mode_label=MODES.get(entry.mode, "") if entry.mode else "",
            languages=[LANGUAGE_NAMES.get(code, code) for code in entry.languages or []],
            availability=declared.get(entry.professional_id),
            private=private,
        )
        if private:
            item.update(contacts.get((entry.kind, entry.ref_id), {}))
    return items


@dataclass
class EntryPage:
    """An entry's page: its title, facts as (label, value) rows, contacts, position."""

    kind: str
    ref_id: int
    title: str
    subtitle: str
    facts: list[tuple[str, str]]
    phone: str
    email: str
    latitude: float | None
    longitude: float | None
    availability: Availability | None = None
    website: str = ""
    service_id: int | None = None


def _contact(source, private: bool) -> dict:
    if private:
        return {"phone": source.phone, "email": source.email}
    return {
        "phone": source.phone if source.phone_public else "",
        "email": source.email if source.email_public else "",
    }


def _place_facts(source) -> list[tuple[str, str]]:
    commune = source.commune
    place = " ".join(filter(None, [source.postal_code, commune.name if commune else ""]))
    precision = LocationPrecision(source.location_precision).label
    return [
        (_("Adresse"), ", ".join(filter(None, [source.address, place]))),
        (_("Localisation"), precision),
    ]


def _freshness(source) -> list[tuple[str, str]]:
    checked = source.checked_on.strftime("%d/%m/%Y") if source.checked_on else _("non vérifiée")
    origin = dict(Source.choices).get(source.source, source.source)
    return [(_("Informations vérifiées le"), f"{checked} ({origin})")]


def _professional_facts(situation: PracticeSituation) -> list[tuple[str, str]]:
    person = situation.professional
    languages = ", ".join(LANGUAGE_NAMES.get(code, code) for code in person.languages)
    return [
        (_("Profession"), person.profession),
        (_("Spécialité"), person.savoir_faire),
        (_("Identifiant RPPS"), person.rpps),
        (_("Mode d'exercice"), situation.get_mode_display() if situation.mode else ""),
        (_("Lieu d'exercice"), situation.place_name),
        (_("Langues parlées"), languages),
    ]


def _structure_facts(structure: Structure) -> list[tuple[str, str]]:
    return [
        (_("Catégorie"), structure.category),
        (_("FINESS"), structure.finess_et or ""),
        (_("Raison sociale"), structure.long_name),
    ]


def _service_facts(service: Service) -> list[tuple[str, str]]:
    served = ", ".join(service.communes_served.order_by("name").values_list("name", flat=True))
    return [
        (_("Cercle"), service.get_circle_display()),
        (_("Catégorie"), service.category),
        (_("Description"), service.description),
        (_("Publics"), ", ".join(service.public_served)),
        (_("Conditions d'accès"), service.eligibility),
        (_("Langues parlées"), ", ".join(service.languages)),
        (_("Frais"), service.fees),
        (_("Horaires"), format_opening_hours(service.opening_hours)),
        (_("Communes desservies"), served),
        (_("Accessibilité"), service.accessibility),
    ]


def annuaire_entry(*, kind: str, ref_id: int, organisation=None, private=False) -> EntryPage:
    """One entry's page, if the entry is in the index and visible; else 404."""
    entry = (
        SearchEntry.objects.filter(_visible(organisation), kind=kind, ref_id=ref_id)
        .only("kind", "ref_id", "title", "subtitle", "professional_id")
        .first()
    )
    if entry is None:
        raise Http404
    if kind == SearchEntry.Kind.PROFESSIONAL:
        source = PracticeSituation.objects.select_related("professional", "commune").get(pk=ref_id)
        facts = _professional_facts(source)
    elif kind == SearchEntry.Kind.STRUCTURE:
        source = Structure.objects.select_related("commune").get(pk=ref_id)
        facts = _structure_facts(source)
    else:
        source = Service.objects.select_related("commune").get(organisation=organisation, pk=ref_id)
        facts = _service_facts(source)
    declared = _valid_availabilities(organisation, [entry.professional_id]) if private else {}
    return EntryPage(
        kind=kind,
        ref_id=ref_id,
        title=entry.title,
        subtitle=entry.subtitle,
        facts=[(label, value) for label, value in facts + _place_facts(source) if value]
        + _freshness(source),
        latitude=source.latitude,
        longitude=source.longitude,
        availability=declared.get(entry.professional_id),
        website=getattr(source, "website", ""),
        service_id=ref_id if kind == SearchEntry.Kind.SERVICE else None,
        **_contact(source, private),
    )


# --- Facet links and the map ------------------------------------------------------------

# Facet of the search → the GET parameter of the annuaire's form that filters on it.
FACET_PARAMS = {
    "profession_code": "profession",
    "savoir_faire_code": "savoir_faire",
    "category_code": "category",
    "commune": "located_in",
    "mode": "mode",
    "language": "language",
    "kind": "kind",
    "circle": "circle",
    "accepting": "accepting",
}
STAFF_FACETS = ("accepting", "circle")
FACET_OPTIONS = 8
# Filters set by facet links only (the others have a field in the visible form).
LINK_ONLY = ("savoir_faire", "category", "located_in", "mode", "language", "circle")


def _with(params, **changes) -> str:
    """The query string with these parameters set (or removed when None), page reset."""
    query = params.copy()
    query.pop("page", None)
    for name, value in changes.items():
        query.pop(name, None)
        if value is not None:
            query[name] = value
    return "?" + query.urlencode()


def facet_groups(facets: dict, params, *, organisation=None, staff=False) -> list[dict]:
    """Each facet as links that add (or remove) its filter, with counts; the selected value
    always shown."""
    groups = []
    for name, param in FACET_PARAMS.items():
        if name in STAFF_FACETS and not staff:
            continue
        selected = params.get(param, "")
        rows = [(code, n) for code, n in facets.get(name, []) if code]
        shown = rows[:FACET_OPTIONS] + [r for r in rows[FACET_OPTIONS:] if r[0] == selected]
        if not shown:
            continue
        labels = facet_labels(name, [code for code, _n in shown], organisation)
        options = [
            {
                "label": labels.get(code, code),
                "count": n,
                "active": code == selected,
                "url": _with(params, **{param: None if code == selected else code}),
            }
            for code, n in shown
        ]
        groups.append({"param": param, "title": FACET_TITLES[name], "options": options})
    return groups


def active_filters(params, *, organisation=None, staff=False) -> list[dict]:
    """The filters set by facet links, each with a link that removes it."""
    facet_of = {param: name for name, param in FACET_PARAMS.items()}
    chips = []
    for param in LINK_ONLY:
        code = params.get(param, "")
        if not code or (param == "circle" and not staff):
            continue
        name = facet_of[param]
        label = facet_labels(name, [code], organisation).get(code, code)
        chips.append(
            {
                "title": FACET_TITLES[name],
                "label": label,
                "remove_url": _with(params, **{param: None}),
            }
        )
    return chips


def parse_bbox(text: str) -> tuple[float, float, float, float] | None:
    """ "west,south,east,north" in degrees, or None when it is not a viewport."""
    try:
        west, south, east, north = (float(value) for value in text.split(","))
    except ValueError:
        return None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        return None
    return west, south, east, north
