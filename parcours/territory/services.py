"""Writes on territory data: the import of the communes and the demo territory.

``communes_import`` reads the official list (shipped in ``data/communes.json.gz``, see
``data/PROVENANCE.md``) and, optionally, a CSV of centre coordinates. Every row is checked
first; when one is rejected nothing is written and the report lists each rejected row with
its line and reason. Otherwise communes are created or updated in batches inside one
transaction; running the same import twice changes nothing.
"""

import csv
import gzip
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scope

from parcours.accounts.models import Organisation

from .models import INSEE_CODE_PATTERN, Commune, PriorityNeighbourhood, Territory

DATA_DIR = Path(__file__).resolve().parent / "data"
OFFICIAL_COMMUNES = DATA_DIR / "communes.json.gz"
DEMO_TERRITORY = DATA_DIR / "demo_territory.json"
BATCH_SIZE = 500

INSEE_CODE = re.compile(INSEE_CODE_PATTERN)
POSTAL_CODE = re.compile(r"^\d{5}$")
Kind = Commune.Kind
# The package's record types, and the short codes of INSEE's own files.
SOURCE_KINDS = {
    "commune-actuelle": Kind.COMMUNE,
    "arrondissement-municipal": Kind.ARRONDISSEMENT,
    "commune-deleguee": Kind.DELEGATED,
    "commune-associee": Kind.ASSOCIATED,
    **{kind.value: kind for kind in Kind},
}
FORMER_COMMUNES = (Kind.DELEGATED, Kind.ASSOCIATED)
# Accepted header names (compared in lower case) for each column of a centres CSV.
CENTRE_COLUMNS = {
    "insee": ("insee_com", "code_insee", "insee", "code_commune_insee", "codgeo"),
    "latitude": ("lat", "latitude"),
    "longitude": ("lng", "lon", "long", "longitude"),
}
COLUMN_LABELS = {
    "insee": gettext_lazy("le code INSEE"),
    "latitude": gettext_lazy("la latitude"),
    "longitude": gettext_lazy("la longitude"),
}
COORDINATE_MESSAGES = {
    "latitude": (
        gettext_lazy("latitude manquante"),
        gettext_lazy("latitude invalide « %(value)s »"),
        gettext_lazy("latitude hors limites « %(value)s » (attendue entre -90 et 90)"),
    ),
    "longitude": (
        gettext_lazy("longitude manquante"),
        gettext_lazy("longitude invalide « %(value)s »"),
        gettext_lazy("longitude hors limites « %(value)s » (attendue entre -180 et 180)"),
    ),
}
COORDINATE_LIMITS = {"latitude": 90.0, "longitude": 180.0}
UPDATED_FIELDS = (
    "name",
    "kind",
    "parent_id",
    "postal_codes",
    "departement",
    "region",
    "population",
    "latitude",
    "longitude",
)


class UnknownCommune(ValueError):
    """A centres row names a commune missing from the official list."""


@dataclass(frozen=True)
class RowIssue:
    """A rejected or skipped row: where it is (line of a CSV, record of a JSON list) and why."""

    line: int | None
    reason: str
    place: str = "ligne"
    unknown_commune: bool = False

    def __str__(self) -> str:
        return self.reason if self.line is None else f"{self.place} {self.line} : {self.reason}"


@dataclass
class CommuneImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    centres: int = 0  # communes located by the centres file
    errors: list[RowIssue] = field(default_factory=list)
    skipped: list[RowIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self, limit: int = 50) -> str:
        lines = [str(issue) for issue in (self.errors or self.skipped)[:limit]]
        hidden = len(self.errors or self.skipped) - limit
        if hidden > 0:
            lines.append(_("… et %(count)s autres") % {"count": hidden})
        if self.errors:
            lines.append(
                _("%(count)s erreur(s) : aucune donnée n'a été enregistrée.")
                % {"count": len(self.errors)}
            )
            if any(issue.unknown_commune for issue in self.errors):
                lines.append(
                    _(
                        "Une commune inconnue a souvent fusionné depuis la date du fichier : "
                        "l'option --skip-unknown ignore ces lignes en les listant."
                    )
                )
        else:
            lines.append(
                _(
                    "Communes : %(created)s créée(s), %(updated)s mise(s) à jour, %(unchanged)s "
                    "inchangée(s) ; centres connus pour %(centres)s commune(s) du fichier, "
                    "%(skipped)s ligne(s) ignorée(s)."
                )
                % {**self.__dict__, "skipped": len(self.skipped)}
            )
        return "\n".join(lines)


def communes_import(
    *, source: Path | None = None, centres: Path | None = None, skip_unknown: bool = False
) -> CommuneImportReport:
    """Create or update the communes from the official list, with centres from a CSV.

    ``skip_unknown``: rows of the centres file whose commune is not in the official list
    (a commune merged since the file was made) are reported as skipped instead of rejected.
    """
    report = CommuneImportReport()
    rows = _official_rows(_read_json(Path(source or OFFICIAL_COMMUNES), report), report)
    known = set(rows) | set(Commune.objects.values_list("insee", flat=True))
    coordinates = _read_centres(Path(centres), known, skip_unknown, report) if centres else {}
    if report.errors:
        return report
    report.centres = len(coordinates)
    with transaction.atomic():
        _upsert(rows, coordinates, report)
    return report


# --- The official list -----------------------------------------------------------------------


def _read_json(path: Path, report: CommuneImportReport) -> list:
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":  # gzip magic number: the shipped file is compressed
            data = gzip.decompress(data)
        records = json.loads(data.decode("utf-8"))
    except FileNotFoundError:
        report.errors.append(RowIssue(None, _("fichier introuvable : %(path)s") % {"path": path}))
        return []
    except (OSError, UnicodeDecodeError, ValueError) as error:
        report.errors.append(
            RowIssue(
                None, _("fichier illisible %(path)s : %(error)s") % {"path": path, "error": error}
            )
        )
        return []
    if not isinstance(records, list):
        report.errors.append(
            RowIssue(None, _("le fichier %(path)s doit contenir une liste JSON") % {"path": path})
        )
        return []
    return records


def _official_rows(records: list, report: CommuneImportReport) -> dict[str, dict]:
    """The communes to load, by INSEE code, from the package's records.

    A delegated or associated commune often keeps the code of the commune it joined (its
    chef-lieu, e.g. 01015): the current commune wins that code and the former one is left out.
    """
    rows: dict[str, dict] = {}
    for number, record in enumerate(records, start=1):
        try:
            row = _official_row(record)
        except ValueError as error:
            report.errors.append(RowIssue(number, str(error), _("enregistrement")))
            continue
        code = row.pop("insee")
        if code in rows and row["kind"] in FORMER_COMMUNES:
            continue
        if code in rows and rows[code]["kind"] not in FORMER_COMMUNES:
            report.errors.append(
                RowIssue(
                    number,
                    _("code INSEE en double « %(code)s »") % {"code": code},
                    _("enregistrement"),
                )
            )
            continue
        rows[code] = row
    for code, row in rows.items():
        if row["parent_id"] == code:
            row["parent_id"] = None
        elif row["parent_id"] is not None and row["parent_id"] not in rows:
            report.errors.append(
                RowIssue(
                    None,
                    _("commune %(code)s : commune de rattachement inconnue « %(parent)s »")
                    % {"code": code, "parent": row["parent_id"]},
                )
            )
    return rows


def _official_row(record) -> dict:
    if not isinstance(record, dict):
        raise ValueError(_("enregistrement qui n'est pas un objet JSON"))
    code = str(record.get("code") or "")
    if not INSEE_CODE.match(code):
        raise ValueError(_("code INSEE invalide « %(value)s »") % {"value": _clip(code)})
    kind = SOURCE_KINDS.get(record.get("type"))
    if kind is None:
        raise ValueError(
            _("type de commune inconnu « %(value)s »") % {"value": _clip(record.get("type"))}
        )
    name = str(record.get("nom") or "").strip()
    if not name:
        raise ValueError(_("nom manquant pour la commune %(code)s") % {"code": code})
    population = record.get("population")
    if population is not None and (not isinstance(population, int) or population < 0):
        raise ValueError(_("population invalide « %(value)s »") % {"value": _clip(population)})
    postal_codes = record.get("codesPostaux") or []
    if not isinstance(postal_codes, list) or not all(
        POSTAL_CODE.match(str(c)) for c in postal_codes
    ):
        raise ValueError(
            _("codes postaux invalides « %(value)s »") % {"value": _clip(postal_codes)}
        )
    parent = record.get("commune") if kind == Kind.ARRONDISSEMENT else record.get("chefLieu")
    return {
        "insee": code,
        "name": name[:200],
        "kind": kind,
        "parent_id": parent or None,
        "postal_codes": [str(c) for c in postal_codes],
        "population": population,
        "departement": str(record.get("departement") or "")[:3],
        "region": str(record.get("region") or "")[:3],
    }


# --- The centres file ------------------------------------------------------------------------


def _read_centres(
    path: Path, known: set[str], skip_unknown: bool, report: CommuneImportReport
) -> dict[str, tuple[float, float]]:
    text = _read_text(path, report)
    if text is None:
        return {}
    header = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=header.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = _centre_columns(reader.fieldnames or [], report)
    if columns is None:
        return {}
    coordinates: dict[str, tuple[float, float]] = {}
    first_line: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        try:
            parsed = _centre_row(row, columns, known, skip_unknown)
        except UnknownCommune as error:
            report.errors.append(RowIssue(line, str(error), _("ligne"), unknown_commune=True))
            continue
        except ValueError as error:
            report.errors.append(RowIssue(line, str(error), _("ligne")))
            continue
        if isinstance(parsed, str):
            report.skipped.append(RowIssue(line, parsed, _("ligne")))
            continue
        code, point = parsed
        if code in coordinates and coordinates[code] != point:
            report.errors.append(
                RowIssue(
                    line,
                    _(
                        "coordonnées différentes de celles de la ligne %(first)s pour la "
                        "commune « %(code)s »"
                    )
                    % {"first": first_line[code], "code": code},
                    _("ligne"),
                )
            )
            continue
        coordinates[code] = point
        first_line.setdefault(code, line)
    return coordinates


def _read_text(path: Path, report: CommuneImportReport) -> str | None:
    try:
        raw = path.read_bytes()
    except OSError:
        report.errors.append(RowIssue(None, _("fichier introuvable : %(path)s") % {"path": path}))
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # official French files are often still in Latin-1


def _centre_columns(fieldnames: list[str], report: CommuneImportReport) -> dict[str, str] | None:
    by_name = {name.strip().lower(): name for name in fieldnames if name}
    columns, missing = {}, []
    for role, accepted in CENTRE_COLUMNS.items():
        found = next((by_name[name] for name in accepted if name in by_name), None)
        if found is None:
            missing.append(role)
        columns[role] = found
    for role in missing:
        report.errors.append(
            RowIssue(
                1,
                _("colonne manquante pour %(what)s (attendue : %(names)s)")
                % {"what": COLUMN_LABELS[role], "names": ", ".join(CENTRE_COLUMNS[role])},
                _("ligne"),
            )
        )
    return None if missing else columns


def _centre_row(row: dict, columns: dict[str, str], known: set[str], skip_unknown: bool):
    """``(code, (lat, lng))``, or why the row is skipped; ValueError when it is rejected."""
    code = (row.get(columns["insee"]) or "").strip().upper()
    if not INSEE_CODE.match(code):
        raise ValueError(_("code INSEE invalide « %(value)s »") % {"value": _clip(code)})
    texts = {role: (row.get(columns[role]) or "").strip() for role in ("latitude", "longitude")}
    if not any(texts.values()):
        return _("pas de coordonnées pour la commune « %(code)s », ligne ignorée") % {"code": code}
    point = (
        _coordinate(texts["latitude"], "latitude"),
        _coordinate(texts["longitude"], "longitude"),
    )
    if code not in known:
        unknown = _("commune inconnue « %(code)s »") % {"code": code}
        if skip_unknown:
            return unknown + _(", ligne ignorée")
        raise UnknownCommune(unknown)
    return code, point


def _coordinate(text: str, role: str) -> float:
    missing, invalid, out_of_range = COORDINATE_MESSAGES[role]
    if not text:
        raise ValueError(str(missing))
    try:
        value = float(text if "." in text else text.replace(",", "."))  # French decimal comma
    except ValueError:
        raise ValueError(str(invalid) % {"value": _clip(text)}) from None
    if not math.isfinite(value):
        raise ValueError(str(invalid) % {"value": _clip(text)})
    if abs(value) > COORDINATE_LIMITS[role]:
        raise ValueError(str(out_of_range) % {"value": _clip(text)})
    return value


def _clip(value, length: int = 40) -> str:
    text = str(value)
    return text if len(text) <= length else text[: length - 1] + "…"


# --- Writing ---------------------------------------------------------------------------------


def _upsert(
    rows: dict[str, dict], coordinates: dict[str, tuple[float, float]], report: CommuneImportReport
) -> None:
    """Create the new communes, update the changed ones (grouped by changed fields)."""
    existing = Commune.objects.in_bulk()
    created: list[Commune] = []
    changed: dict[tuple[str, ...], list[Commune]] = {}
    for code in rows.keys() | coordinates.keys():
        current = existing.get(code)
        values = dict(rows.get(code) or {})
        if code in coordinates:
            values["latitude"], values["longitude"] = coordinates[code]
        if current is None:
            created.append(Commune(insee=code, **values))
            continue
        fields = tuple(
            name
            for name in UPDATED_FIELDS
            if name in values and getattr(current, name) != values[name]
        )
        if fields:
            for name in fields:
                setattr(current, name, values[name])
            changed.setdefault(fields, []).append(current)
        else:
            report.unchanged += 1
    # Parents first, so that a database checking foreign keys at once is satisfied too.
    created.sort(key=lambda commune: (commune.parent_id is not None, commune.insee))
    Commune.objects.bulk_create(created, batch_size=BATCH_SIZE)
    for fields, communes in changed.items():
        _update_rows(communes, fields)
    report.created = len(created)
    report.updated = sum(len(communes) for communes in changed.values())


def _update_rows(communes: list[Commune], fields: tuple[str, ...]) -> None:
    """One ``UPDATE … WHERE insee = %s`` per commune, sent with ``executemany``.

    Linear, unlike ``bulk_update`` whose ``CASE WHEN`` grows with the batch: setting the
    centres of the 35,000 communes took 18 s (SQLite) and 30 s (PostgreSQL) that way.
    Values are prepared by the model fields themselves (JSON, floats), so both engines
    receive what the ORM would send.
    """
    quote = connection.ops.quote_name
    columns = [Commune._meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    table = quote(Commune._meta.db_table)
    # Names come from the model, values go as parameters.
    sql = f"UPDATE {table} SET {assignments} WHERE {quote('insee')} = %s"  # noqa: S608
    rows = [
        [
            column.get_db_prep_save(getattr(commune, column.attname), connection)
            for column in columns
        ]
        + [commune.pk]
        for commune in communes
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(sql, rows[start : start + BATCH_SIZE])


# --- The demo territory ----------------------------------------------------------------------


@transaction.atomic
def territory_load_demo(*, organisation: Organisation) -> Territory:
    """The CPTS of Vénissieux and its neighbours (``data/demo_territory.json``); safe to run twice.

    Communes missing from the database (``import_communes`` not run) are created from the
    fixture; existing ones only receive the fixture's centre when they have none.
    """
    demo = json.loads(DEMO_TERRITORY.read_text(encoding="utf-8"))
    communes = {item["insee"]: _demo_commune(item) for item in demo["communes"]}
    with scope(organisation=organisation):
        territory = Territory.objects.filter(organisation=organisation).first()
        if territory is None:
            territory = Territory(organisation=organisation, name=demo["territory"]["name"])
            territory.full_clean()
            territory.save()
        territory.communes.add(*communes.values())
        for item in demo["priority_neighbourhoods"]:
            neighbourhood, _created = PriorityNeighbourhood.objects.get_or_create(
                territory=territory, name=item["name"], defaults={"code": item.get("code", "")}
            )
            neighbourhood.communes.add(*(communes[code] for code in item["communes"]))
    return territory


def _demo_commune(item: dict) -> Commune:
    commune = Commune.objects.filter(pk=item["insee"]).first()
    if commune is None:
        parent = item.get("parent")
        commune = Commune(
            insee=item["insee"],
            name=item["name"],
            kind=item["kind"],
            postal_codes=item["postal_codes"],
            population=item["population"],
            departement=item["departement"],
            region=item["region"],
            latitude=item["latitude"],
            longitude=item["longitude"],
            parent_id=parent if parent and Commune.objects.filter(pk=parent).exists() else None,
        )
        commune.full_clean(validate_unique=False)
        commune.save(force_insert=True)
    elif not commune.has_centre:
        commune.latitude, commune.longitude = item["latitude"], item["longitude"]
        commune.save(update_fields=["latitude", "longitude"])
    return commune
