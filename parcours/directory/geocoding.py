"""Geocoding: addresses → coordinates, from the Base Adresse Nationale (BAN), offline first.

Order of trust (issue 3): FINESS coordinates when known (set by that import), else the BAN
address point (precision "address"), else the middle of the street's points ("street"),
else, when a deployment configures ``BAN_API_URL``, the national address API, else the
commune centre ("commune"). The API is asked only for what the offline data lacks, with a
short timeout; any failure falls back to the commune centre.

``import_ban`` loads the official per-département files ``adresses-XX.csv(.gz)``
(``;``-separated, header ``id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;…;lon;lat;…``)
from https://adresse.data.gouv.fr/data/ban/adresses/latest/csv/ (Licence Ouverte 2.0).
A département is replaced as a whole in one transaction: running it again changes
nothing, and an interrupted run leaves the previous data in place.
"""

import csv
import gzip
import io
import json
import logging
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Avg

from parcours.lib.text import fold

from .importing import ImportReport, Progress, batches
from .models import BanAddress, LocationPrecision

logger = logging.getLogger(__name__)

STREET_WORDS = {
    "ALL": "ALLEE",
    "AV": "AVENUE",
    "AVE": "AVENUE",
    "BD": "BOULEVARD",
    "BLD": "BOULEVARD",
    "CHE": "CHEMIN",
    "CH": "CHEMIN",
    "CRS": "COURS",
    "IMP": "IMPASSE",
    "PL": "PLACE",
    "PLA": "PLACE",
    "R": "RUE",
    "RTE": "ROUTE",
    "SQ": "SQUARE",
    "QU": "QUAI",
    "QUA": "QUAI",
    "FG": "FAUBOURG",
    "FBG": "FAUBOURG",
    "PASS": "PASSAGE",
    "PAS": "PASSAGE",
    "LOT": "LOTISSEMENT",
    "RES": "RESIDENCE",
    "HAM": "HAMEAU",
    "ST": "SAINT",
    "STE": "SAINTE",
    "PRO": "PROMENADE",
    "ESP": "ESPLANADE",
    "VLA": "VILLA",
    "CITE": "CITE",
    "CTRE": "CENTRE",
    "ZA": "ZONE ARTISANALE",
    "ZI": "ZONE INDUSTRIELLE",
    "ZAC": "ZONE D AMENAGEMENT CONCERTE",
}
REPS = {
    "B": "BIS",
    "BIS": "BIS",
    "T": "TER",
    "TER": "TER",
    "Q": "QUATER",
    "QUATER": "QUATER",
    "A": "A",
    "C": "C",
    "D": "D",
}
_NUMBER = re.compile(r"^\s*(\d{1,5})\s*(bis|ter|quater|[abcdq])?\b[\s,]*(.*)$", re.IGNORECASE)


def normalise_street(text: str) -> str:
    """Upper case, no accents, no punctuation, usual abbreviations expanded."""
    return " ".join(STREET_WORDS.get(word, word) for word in fold(text).upper().split())


@dataclass(frozen=True)
class ParsedAddress:
    number: int | None
    rep: str
    street: str


def parse_address(address: str) -> ParsedAddress:
    """'12 bis av. Jean Jaurès' → (12, 'BIS', 'AVENUE JEAN JAURES')."""
    match = _NUMBER.match(address or "")
    if not match:
        return ParsedAddress(None, "", normalise_street(address or ""))
    number, rep, street = match.groups()
    return ParsedAddress(int(number), REPS.get((rep or "").upper(), ""), normalise_street(street))


@dataclass(frozen=True)
class Location:
    latitude: float | None
    longitude: float | None
    precision: str


def geocode(*, address: str, commune) -> Location:
    """Coordinates of an address in a commune (a ``territory.Commune``), as precise as known."""
    parsed = parse_address(address)
    if commune is not None and parsed.street:
        points = BanAddress.objects.filter(insee=commune.insee, street=parsed.street)
        if parsed.number is not None:
            point = (
                points.filter(number=parsed.number)
                .order_by("-rep" if parsed.rep else "rep")
                .values_list("latitude", "longitude", "rep")
            )
            exact = [p for p in point if p[2] == parsed.rep] or list(point)
            if exact:
                return Location(exact[0][0], exact[0][1], LocationPrecision.ADDRESS)
        middle = points.aggregate(lat=Avg("latitude"), lon=Avg("longitude"))
        if middle["lat"] is not None:
            return Location(middle["lat"], middle["lon"], LocationPrecision.STREET)
    if commune is not None and parsed.street and settings.BAN_API_URL:
        found = ban_api_geocode(address=address, insee=commune.insee)
        if found is not None:
            return found
    if commune is not None and commune.latitude is not None:
        return Location(commune.latitude, commune.longitude, LocationPrecision.COMMUNE)
    return Location(None, None, LocationPrecision.UNKNOWN)


# The API's result types, and the precision each gives.
BAN_API_PRECISION = {
    "housenumber": LocationPrecision.ADDRESS,
    "street": LocationPrecision.STREET,
    "locality": LocationPrecision.STREET,
}
BAN_API_MIN_SCORE = 0.5


def ban_api_geocode(*, address: str, insee: str) -> Location | None:
    """The best match of the national address API in that commune, or None (no answer,
    a poor score, only the commune itself, or any error: the caller falls back)."""
    query = urllib.parse.urlencode({"q": address[:200], "citycode": insee, "limit": 1})
    try:
        with urllib.request.urlopen(  # noqa: S310 (URL from the deployment's settings)
            f"{settings.BAN_API_URL}?{query}", timeout=settings.BAN_API_TIMEOUT
        ) as response:
            features = json.load(response).get("features") or []
    except (OSError, ValueError) as error:
        logger.warning("BAN API unavailable: %s", type(error).__name__)
        return None
    if not features:
        return None
    properties = features[0].get("properties", {})
    precision = BAN_API_PRECISION.get(properties.get("type"))
    try:
        longitude, latitude = (float(v) for v in features[0]["geometry"]["coordinates"][:2])
    except (KeyError, TypeError, ValueError):
        return None
    if precision is None or float(properties.get("score") or 0) < BAN_API_MIN_SCORE:
        return None
    if properties.get("citycode") not in (None, insee):
        return None
    return Location(latitude, longitude, precision)


def _departement(insee: str) -> str:
    return insee[:3] if insee.startswith("97") else insee[:2]


def _open_text(path: Path) -> io.TextIOBase:
    raw = gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


REQUIRED = ("id", "numero", "rep", "nom_voie", "code_insee", "lon", "lat")


def ban_import(*, path: Path, progress: Progress | None = None) -> ImportReport:
    """Replace the addresses of the file's département (one file = one département)."""
    report = ImportReport(source=f"BAN {path.name}")
    rows, departement = [], None
    try:
        with _open_text(path) as handle:
            reader = csv.DictReader(handle, delimiter=";")
            missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
            if missing:
                report.reject(1, f"colonnes manquantes : {', '.join(missing)}")
                return report
            for line, row in enumerate(reader, start=2):
                report.read += 1
                point = _ban_row(row, line, report)
                if point is None:
                    continue
                departement = departement or _departement(point.insee)
                if _departement(point.insee) != departement:
                    report.reject(line, f"commune {point.insee} hors du département {departement}")
                    continue
                rows.append(point)
                if progress:
                    progress.update(report.read)
    except UnicodeDecodeError:
        report.reject(0, "encodage invalide (UTF-8 attendu) : rien n'a été importé")
        return report
    if departement:
        _replace_departement(departement, rows, report)
    if progress:
        progress.close(report.read)
    return report


def _ban_row(row: dict, line: int, report: ImportReport) -> BanAddress | None:
    try:
        latitude, longitude = float(row["lat"]), float(row["lon"])
    except (TypeError, ValueError):
        report.reject(line, "coordonnées illisibles")
        return None
    insee = (row.get("code_insee") or "").strip()
    if not re.fullmatch(r"\d[\dAB]\d{3}", insee) or not (
        -90 <= latitude <= 90 and -180 <= longitude <= 180
    ):
        report.reject(line, f"code commune « {insee} » ou coordonnées invalides")
        return None
    number = row.get("numero") or ""
    return BanAddress(
        ban_id=row["id"],
        insee=insee,
        street=normalise_street(row.get("nom_voie") or ""),
        number=int(number) if number.isdigit() and int(number) < 100000 else None,
        rep=REPS.get((row.get("rep") or "").upper(), (row.get("rep") or "").upper()[:10]),
        latitude=latitude,
        longitude=longitude,
    )


@transaction.atomic
def _replace_departement(departement: str, rows: list[BanAddress], report: ImportReport) -> None:
    existing = BanAddress.objects.filter(insee__startswith=departement)
    before = {
        key: point
        for key, *point in existing.values_list(
            "ban_id", "insee", "street", "number", "rep", "latitude", "longitude"
        )
    }
    existing.delete()  # no relations nor signals: Django sends one plain DELETE
    for batch in batches(rows):
        BanAddress.objects.bulk_create(batch)
    for row in rows:
        old = before.pop(row.ban_id, None)
        if old is None:
            report.created += 1
        elif old == [row.insee, row.street, row.number, row.rep, row.latitude, row.longitude]:
            report.unchanged += 1
        else:
            report.updated += 1
    report.deactivated = len(before)  # addresses gone from the new file
