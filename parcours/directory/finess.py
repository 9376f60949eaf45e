"""Import of the FINESS establishments (etalab extraction ``etalab_cs1100507_stock_….csv``).

The file has no header row: its first line is ``finess;etalab;<n>;<date>``, then
``structureet;…`` lines (31 fields, the order of the etalab specification; recent files add
``numuai``, so 32 are accepted too) and ``geolocalisation;nofinesset;coordxet;coordyet;
sourcecoordet;datemaj`` lines, usually all after the establishments. Fields are split on
``;`` (the extraction never quotes them).

Encoding: the whole file is decoded as UTF-8 if it is valid UTF-8 from end to end (a BOM is
ignored), otherwise as Latin-1 (the encoding of the current extraction). The decision is
made once for the file, never line by line, so a file is never half-decoded.

The import reads the file twice: the first pass keeps the raw coordinates of every
geolocalisation line by FINESS number (≈ 100 k small tuples), the second reads the
establishments and applies them in batches of 5,000, each in one transaction. Within a
batch the coordinates are converted to WGS84 in bulk, one pyproj transformer per CRS.
Upserts are keyed on ``finess_et`` (a structure created by the RPPS import with the same
number is updated, not duplicated), so an interrupted run is completed by running it again.
The extraction is a full stock: FINESS structures absent from it are deactivated (never
deleted) once every batch has been applied.
"""

import codecs
import math
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from parcours.territory.models import Commune

from .importing import (
    BATCH_SIZE,
    ImportReport,
    Progress,
    batches,
    fast_commit,
    import_session,
    insert_rows,
    keyed,
    update_rows,
)
from .models import LocationPrecision, Source, Structure

STRUCTURE_FIELDS = (31, 32)  # the specification's 31, or 32 with ``numuai`` (recent files)
GEOLOCATION_FIELDS = 6
FINESS_NUMBER = re.compile(r"^[0-9][0-9A-Z][0-9]{7}$")
COMMUNE_NUMBER = re.compile(r"^[0-9]{3}$")
POSTAL_CODE = re.compile(r"^\s*([0-9]{5})")
EPSG_CODE = re.compile(r"EPSG\s*:\s*([0-9]{4,5})", re.IGNORECASE)
SIRET = re.compile(r"^[0-9]{14}$")
LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")  # 2 × digit, digits summed

# FINESS codes the overseas départements with a letter (specification: [0-9][0-9A-Z]).
OVERSEAS_DEPARTEMENTS = {
    "9A": "971",  # Guadeloupe
    "9B": "972",  # Martinique
    "9C": "973",  # Guyane
    "9D": "974",  # La Réunion
    "9E": "975",  # Saint-Pierre-et-Miquelon
    "9F": "976",  # Mayotte
}
# Saint-Barthélemy and Saint-Martin left Guadeloupe in 2007: their former codes.
FORMER_INSEE_CODES = {"97123": "97701", "97127": "97801"}
# The legal projection of each overseas territory (checked against pyproj's EPSG database
# in the tests); métropole and Corsica use Lambert-93 (EPSG:2154).
LAMBERT_93 = 2154
OVERSEAS_CRS = {
    "971": 5490,  # RGAF09 / UTM zone 20N (Antilles)
    "972": 5490,
    "977": 5490,
    "978": 5490,
    "973": 2972,  # RGFG95 / UTM zone 22N (Guyane)
    "974": 2975,  # RGR92 / UTM zone 40S (La Réunion)
    "975": 4467,  # RGSPM06 / UTM zone 21N (Saint-Pierre-et-Miquelon)
    "976": 4471,  # RGM04 / UTM zone 38S (Mayotte)
}
# Where a French establishment can be: (west, south, east, north) in degrees.
FRANCE_BOXES = (
    (-5.8, 41.0, 10.0, 51.5),  # métropole and Corsica
    (-63.5, 14.2, -60.5, 18.2),  # Antilles (Guadeloupe, Martinique, Saint-Barthélemy, Saint-Martin)
    (-54.7, 2.0, -51.0, 6.0),  # Guyane
    (55.1, -21.5, 56.0, -20.8),  # La Réunion
    (-56.6, 46.7, -56.0, 47.2),  # Saint-Pierre-et-Miquelon
    (44.9, -13.1, 45.4, -12.5),  # Mayotte
)
STREET_NUMBER_SUFFIXES = {"B": "BIS", "T": "TER", "Q": "QUATER", "C": "C"}
# Fields of Structure this import owns (compared to decide "changed" or "unchanged").
OWNED_FIELDS = (
    "name",
    "long_name",
    "finess_ej",
    "siret",
    "category_code",
    "category",
    "aggregate_category_code",
    "aggregate_category",
    "address",
    "postal_code",
    "commune_id",
    "phone",
    "phone_public",
    "source",
    "is_active",
    "checked_by_id",
)
LOCATION_FIELDS = ("latitude", "longitude", "location_precision")
MAX_LENGTHS = {
    field.attname: field.max_length
    for field in Structure._meta.concrete_fields
    if getattr(field, "max_length", None)
}
# Fields copied from a structureet line as they are: (Structure field, index, max length).
TEXT_COLUMNS = tuple(
    (name, index, MAX_LENGTHS[name])
    for name, index in (
        ("name", 3),
        ("long_name", 4),
        ("category_code", 18),
        ("category", 19),
        ("aggregate_category_code", 20),
        ("aggregate_category", 21),
    )
)


class FinessFileError(ValueError):
    """The file is not an etalab FINESS extraction: nothing is imported."""


# --- Pure helpers ---------------------------------------------------------------------------


def finess_number_is_valid(number: str) -> bool:
    """Nine characters of the specification; all-digit numbers also carry a Luhn key."""
    if not FINESS_NUMBER.match(number):
        return False
    if not number.isdigit():  # 2A…/2B… (Corsica): no documented key for the letters
        return True
    kept, doubled = number[-1::-2], number[-2::-2].translate(LUHN_DOUBLED)
    return (sum(map(int, kept)) + sum(map(int, doubled))) % 10 == 0


def finess_departement(departement: str) -> str | None:
    """The INSEE département code of a FINESS one: '9A' → '971', '2A' → '2A', '01' → '01'."""
    departement = departement.strip().upper()
    if departement in OVERSEAS_DEPARTEMENTS:
        return OVERSEAS_DEPARTEMENTS[departement]
    if re.match(r"^(?:[0-9]{2}|2[AB]|97[1-8])$", departement) and departement not in ("00", "20"):
        return departement
    return None


def finess_insee_code(departement: str, commune: str) -> str | None:
    """The INSEE code of the commune: '01' + '451' → '01451', '9A' + '101' → '97101'.

    Overseas, FINESS's three-digit commune is the end of the INSEE code (97 + 101), whose
    first digit repeats the département's. None when the parts are not a commune code.
    """
    insee_departement = finess_departement(departement)
    commune = commune.strip()
    if insee_departement is None or not COMMUNE_NUMBER.match(commune):
        return None
    if len(insee_departement) == 3:
        if commune[0] != insee_departement[2]:
            return None
        code = "97" + commune
        return FORMER_INSEE_CODES.get(code, code)
    return insee_departement + commune


@cache
def finess_crs(source: str, departement: str | None) -> int | None:
    """The EPSG code of a geolocalisation line's coordinates.

    The code named in ``sourcecoordet`` (``…,EPSG:2154 RGF93 / Lambert-93 (Métropole)``)
    wins; old files say ``LAMBERT_93``; otherwise the legal projection of the département.
    """
    match = EPSG_CODE.search(source or "")
    if match:
        return int(match.group(1))
    if "LAMBERT_93" in (source or "").upper().replace("-", "_").replace(" ", "_"):
        return LAMBERT_93
    insee_departement = finess_departement(departement or "")
    if insee_departement is None:
        return None
    return OVERSEAS_CRS.get(insee_departement, LAMBERT_93 if len(insee_departement) == 2 else None)


@cache
def _transformer(epsg: int) -> Transformer:
    return Transformer.from_crs(CRS.from_epsg(epsg), "EPSG:4326", always_xy=True)


def crs_is_known(epsg: int) -> bool:
    try:
        _transformer(epsg)
    except CRSError:
        return False
    return True


def to_wgs84(epsg: int, xs: list[float], ys: list[float]) -> list[tuple[float, float] | None]:
    """(latitude, longitude) of each point, or None where it cannot be in France."""
    longitudes, latitudes = _transformer(epsg).transform(xs, ys)
    return [
        (round(lat, 7), round(lon, 7)) if in_france(lat, lon) else None
        for lat, lon in zip(_as_list(latitudes), _as_list(longitudes), strict=True)
    ]


def _as_list(values) -> list[float]:
    return list(values) if isinstance(values, list | tuple) else list(values.tolist())


def in_france(latitude: float, longitude: float) -> bool:
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return False
    return any(
        west <= longitude <= east and south <= latitude <= north
        for west, south, east, north in FRANCE_BOXES
    )


@cache
def location_precision(source: str) -> str:
    """FINESS geocodes to the address, unless its source says it placed the point coarser."""
    text = (source or "").upper()
    if any(word in text for word in ("COMMUNE", "MAIRIE", "CENTROIDE", "CHEF_LIEU")):
        return LocationPrecision.COMMUNE.value
    if any(word in text for word in ("VOIE", "TRONCON", "STREET")):
        return LocationPrecision.STREET.value
    return LocationPrecision.ADDRESS.value


def finess_address(numvoie: str, typvoie: str, voie: str, compvoie: str, lieuditbp: str) -> str:
    """'900', 'RTE', 'DE PARIS', '', 'BP 139' → '900 RTE DE PARIS, BP 139'."""
    number = numvoie.strip()
    suffix = compvoie.strip().upper()
    if number and suffix:
        number = f"{number} {STREET_NUMBER_SUFFIXES.get(suffix, suffix)}"
    street = " ".join(part for part in (number, typvoie.strip(), voie.strip()) if part)
    return ", ".join(part for part in (street, lieuditbp.strip()) if part)


def detect_encoding(path: Path) -> str:
    """'utf-8-sig' when the whole file is valid UTF-8, else 'latin-1'."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    with path.open("rb") as handle:
        try:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8-sig"


# --- Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawPoint:
    line: int
    x: float
    y: float
    source: str


@dataclass
class Establishment:
    line: int
    finess_et: str
    departement: str
    values: dict


def _lines(path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank line after the header."""
    with path.open(encoding=encoding, newline="") as handle:
        next(handle, None)
        for number, line in enumerate(handle, start=2):
            line = line.rstrip("\r\n")
            if line.strip():
                yield number, line.split(";")


def _check_header(path: Path, encoding: str) -> None:
    with path.open(encoding=encoding, newline="") as handle:
        first = handle.readline().strip().lower()
    if not first.startswith("finess;etalab"):
        raise FinessFileError(
            f"Ce fichier n'est pas une extraction FINESS etalab : la première ligne devrait "
            f"commencer par « finess;etalab », elle commence par « {first[:40]} »."
        )


def _read_points(path: Path, encoding: str, report: ImportReport) -> dict[str, RawPoint]:
    """First pass: the raw coordinates of every geolocalisation line, by FINESS number."""
    points: dict[str, RawPoint] = {}
    for number, fields in _lines(path, encoding):
        if fields[0] != "geolocalisation":
            continue
        if len(fields) != GEOLOCATION_FIELDS:
            report.reject(number, _field_count("geolocalisation", len(fields), GEOLOCATION_FIELDS))
            continue
        finess = fields[1].strip()
        if not finess_number_is_valid(finess):
            report.reject(number, f"numéro FINESS invalide « {finess[:20]} »")
            continue
        if finess in points:
            report.reject(
                number, f"coordonnées en double pour {finess} (déjà ligne {points[finess].line})"
            )
            continue
        if not fields[2].strip() and not fields[3].strip():
            continue  # nillable: an establishment without coordinates
        point = _raw_point(number, fields)
        if point is None:
            report.reject(
                number, f"coordonnées impossibles « {fields[2][:20]} ; {fields[3][:20]} »"
            )
            continue
        points[finess] = point
    return points


def _raw_point(number: int, fields: list[str]) -> RawPoint | None:
    try:
        x = float(fields[2].strip().replace(",", "."))
        y = float(fields[3].strip().replace(",", "."))
    except ValueError:
        return None
    if not (math.isfinite(x) and math.isfinite(y)) or x == 0 or y == 0:
        return None
    return RawPoint(number, x, y, fields[4].strip())


def _field_count(kind: str, found: int, expected) -> str:
    expected_text = " ou ".join(map(str, expected)) if isinstance(expected, tuple) else expected
    return f"ligne {kind} tronquée ou mal formée : {found} champs au lieu de {expected_text}"


def _read_establishments(
    path: Path, encoding: str, report: ImportReport, seen: dict[str, int], progress
) -> Iterator[Establishment]:
    """Second pass: the establishments, checked; rejected lines go to the report."""
    for number, fields in _lines(path, encoding):
        report.read += 1
        if progress is not None:
            progress.update(number)
        kind = fields[0]
        if kind == "geolocalisation":
            continue
        if kind != "structureet":
            report.reject(number, f"type de ligne inconnu « {kind[:30]} »")
            continue
        finess = fields[1].strip() if len(fields) > 1 else ""
        valid_number = finess_number_is_valid(finess)
        if len(fields) not in STRUCTURE_FIELDS:
            if valid_number and finess not in seen:
                seen[finess] = number  # a damaged line must not deactivate its establishment
            report.reject(number, _field_count("structureet", len(fields), STRUCTURE_FIELDS))
            continue
        if not valid_number:
            report.reject(number, f"numéro FINESS invalide « {finess[:20]} »")
            continue
        if finess in seen:
            report.reject(number, f"établissement {finess} en double (déjà ligne {seen[finess]})")
            continue
        seen[finess] = number
        yield Establishment(number, finess, fields[13].strip(), _values(fields))


def _values(fields: list[str]) -> dict:
    """The Structure fields of a structureet line (without coordinates), cut to the model."""
    ej, siret = fields[2].strip(), fields[22].strip()
    postal = POSTAL_CODE.match(fields[15])
    phone = re.sub(r"[^0-9+]", "", fields[16])[: MAX_LENGTHS["phone"]]
    values = {name: fields[index].strip()[:length] for name, index, length in TEXT_COLUMNS}
    values.update(
        name=values["name"] or values["long_name"],
        finess_ej=ej if finess_number_is_valid(ej) else "",
        siret=siret if SIRET.match(siret) else "",
        address=finess_address(*fields[7:12])[: MAX_LENGTHS["address"]],
        postal_code=postal.group(1) if postal else "",
        commune_id=finess_insee_code(fields[13], fields[12]),
        phone=phone,
        phone_public=bool(phone),
        source=Source.FINESS.value,
        is_active=True,
        checked_by_id=None,
    )
    return values


# --- Applying --------------------------------------------------------------------------------


def finess_import(*, path: Path, progress: Progress | None = None) -> ImportReport:
    """Import or refresh the FINESS establishments from an etalab extraction."""
    path = Path(path)
    report = ImportReport(source="FINESS")
    encoding = detect_encoding(path)
    _check_header(path, encoding)
    points = _read_points(path, encoding, report)
    communes = set(Commune.objects.values_list("insee", flat=True))
    seen: dict[str, int] = {}
    today = timezone.localdate()
    establishments = _read_establishments(path, encoding, report, seen, progress)
    with import_session():
        for batch in batches(establishments, BATCH_SIZE):
            locations = _locate(batch, points, report)
            _apply(batch, locations, communes, today, report)
    for finess, point in points.items():
        if finess not in seen:
            report.reject(
                point.line, f"coordonnées d'un établissement absent du fichier : {finess}"
            )
    report.deactivated = _deactivate_absent(seen)
    report.rejected.sort(key=lambda rejection: rejection.line)
    if progress is not None:
        progress.close(report.read + 1)
    return report


def _locate(
    batch: list[Establishment], points: dict[str, RawPoint], report: ImportReport
) -> dict[str, tuple[float, float, str]]:
    """(latitude, longitude, precision) of the batch's establishments, converted per CRS."""
    by_crs: dict[int, list[tuple[str, RawPoint]]] = defaultdict(list)
    for establishment in batch:
        point = points.get(establishment.finess_et)
        if point is None:
            continue
        epsg = finess_crs(point.source, establishment.departement)
        if epsg is None or not crs_is_known(epsg):
            report.reject(point.line, f"projection inconnue « {point.source[:80]} »")
            continue
        by_crs[epsg].append((establishment.finess_et, point))
    locations = {}
    for epsg, items in by_crs.items():
        converted = to_wgs84(epsg, [p.x for _, p in items], [p.y for _, p in items])
        for (finess, point), location in zip(items, converted, strict=True):
            if location is None:
                report.reject(
                    point.line,
                    f"coordonnées impossibles « {point.x} ; {point.y} » "
                    f"(EPSG:{epsg}) : hors de France",
                )
                continue
            locations[finess] = (*location, location_precision(point.source))
    return locations


def _apply(
    batch: list[Establishment],
    locations: dict[str, tuple[float, float, str]],
    communes: set[str],
    today: date,
    report: ImportReport,
) -> None:
    """One batch in one transaction: create the new, update the changed, refresh the rest."""
    with transaction.atomic():
        fast_commit()
        existing = {
            row["finess_et"]: row
            for row in keyed(
                Structure.objects.all(), "finess_et", [e.finess_et for e in batch]
            ).values("id", "finess_et", "checked_on", *OWNED_FIELDS, *LOCATION_FIELDS)
        }
        new, refreshed = [], []
        changed: dict[tuple[str, ...], list[tuple]] = defaultdict(list)  # by updated columns
        for establishment in batch:
            values = dict(establishment.values)
            if values["commune_id"] not in communes:
                values["commune_id"] = None  # kept, unlinked: the commune list may be older
            if establishment.finess_et in locations:
                values.update(zip(LOCATION_FIELDS, locations[establishment.finess_et], strict=True))
            current = existing.get(establishment.finess_et)
            if current is None:
                new.append(
                    {
                        "finess_et": establishment.finess_et,
                        "checked_on": today,
                        **UNLOCATED,
                        **values,
                    }
                )
            elif _changes(current, values):
                changed[(*values, "checked_on")].append((*values.values(), today, current["id"]))
            elif current["checked_on"] != today:
                refreshed.append(current["id"])
        insert_rows(Structure, new)
        for fields, rows in changed.items():
            update_rows(Structure, fields, rows)
        keyed(Structure.objects.all(), "id", refreshed).update(checked_on=today)
    report.created += len(new)
    updated = sum(map(len, changed.values()))
    report.updated += updated
    report.unchanged += len(batch) - len(new) - updated


UNLOCATED = dict(zip(LOCATION_FIELDS, (None, None, LocationPrecision.UNKNOWN.value), strict=True))


def _changes(current: dict, values: dict) -> bool:
    """True when the values differ from the stored row.

    Without FINESS coordinates the stored ones are kept (the address geocoder may have set
    them), unless the address moved: then they are cleared, to be geocoded again.
    """
    if "latitude" not in values and current["latitude"] is not None:
        if current["address"] != values["address"] or current["commune_id"] != values["commune_id"]:
            values.update(
                latitude=None, longitude=None, location_precision=LocationPrecision.UNKNOWN.value
            )
    return [current[name] for name in values] != list(values.values())


def _deactivate_absent(seen: dict[str, int]) -> int:
    """FINESS structures absent from this full extraction are deactivated, never deleted."""
    active = Structure.objects.filter(source=Source.FINESS, is_active=True, finess_et__isnull=False)
    absent = [pk for pk, finess in active.values_list("pk", "finess_et") if finess not in seen]
    for batch in batches(absent, BATCH_SIZE):
        with transaction.atomic():
            Structure.objects.filter(pk__in=batch).update(is_active=False)
    return len(absent)
