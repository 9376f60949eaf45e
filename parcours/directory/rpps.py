"""Import of the Annuaire Santé extraction "PS_LibreAcces_Personne_activite" (RPPS).

The file: UTF-8, one header line with the official French column names, cells separated by
``|`` (lines may end with one more ``|``). 52 columns up to 2023, 56 since the 2024 layout
appended "Code rôle", "Libellé rôle", "Code genre activité" and "Libellé genre activité".
Columns are read by name, so either layout (and any future added column) is accepted.

One line is one activity of one professional. It becomes:
- a ``Professional`` keyed by the 11-digit RPPS ("Identifiant PP"). Rows of professionals
  still identified by their ADELI number (type 0, 9 digits) are rejected: the directory
  keys professionals on the RPPS;
- a ``Structure`` keyed by "Identifiant technique de la structure" when the row has one;
  a structure already known by its FINESS number (FINESS import) is linked, not duplicated,
  and only the RPPS import's own structures are updated from RPPS rows;
- a ``PracticeSituation`` keyed by ``source_key``: the RPPS, then the first 29 hex digits of
  the SHA-1 of the RPPS, the structure identifier and the raw address cells, so a re-import
  updates the same row (beginning with the RPPS, keys come in file order: see _source_key).

``parse_rpps`` turns lines into rows or rejections (pure). ``rpps_import`` writes them in
batches of ``BATCH_SIZE`` rows, each in one transaction, set-based (``rpps_run.RppsRun``):
the batch is copied into a temporary table and applied by a few SQL statements (stored rows
found, compared, inserted, updated or only refreshed); a first load into an empty
directory is one transaction for all its batches (``RppsRun.loading``). On PostgreSQL the
next batch is parsed and prepared in a thread while the last one is written
(``importing.read_ahead``). A
whole-country import then deactivates the professionals (and situations) absent from the
file; an import restricted to a territory deactivates only that territory's situations.
"""

import codecs
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from django_scopes import scopes_disabled

from parcours.territory.models import INSEE_CODE_PATTERN, Commune, Territory

from .importing import ImportReport, Progress, Rejection, import_session, read_ahead
from .rpps_run import RppsRun

# Rows per batch (one transaction, a few statements): larger than the other imports' batches,
# as a batch's statements cost little beyond their rows.
BATCH_SIZE = 20_000

# Official column names read by the import (all present in the 52- and 56-column layouts).
COLUMNS = (
    "Type d'identifiant PP",
    "Identifiant PP",
    "Code civilité",
    "Libellé civilité",
    "Nom d'exercice",
    "Prénom d'exercice",
    "Code profession",
    "Libellé profession",
    "Code savoir-faire",
    "Libellé savoir-faire",
    "Code mode exercice",
    "Numéro SIRET site",
    "Numéro FINESS site",
    "Numéro FINESS établissement juridique",
    "Identifiant technique de la structure",
    "Raison sociale site",
    "Enseigne commerciale site",
    "Complément destinataire (coord. structure)",
    "Complément point géographique (coord. structure)",
    "Numéro Voie (coord. structure)",
    "Indice répétition voie (coord. structure)",
    "Code type de voie (coord. structure)",
    "Libellé type de voie (coord. structure)",
    "Libellé Voie (coord. structure)",
    "Mention distribution (coord. structure)",
    "Bureau cedex (coord. structure)",
    "Code postal (coord. structure)",
    "Code commune (coord. structure)",
    "Téléphone (coord. structure)",
    "Adresse e-mail (coord. structure)",
)
LAST_NAME, PROFESSION_CODE = "Nom d'exercice", "Code profession"
# The whole official header (ANS, "Description des nouvelles extractions en libre accès"):
# 52 columns up to 2023, then the 2024 layout's 4. The import reads only COLUMNS; these are
# for tools that write files in the official layout (the benchmark's generator).
LAYOUT_52 = (
    "Type d'identifiant PP",
    "Identifiant PP",
    "Identification nationale PP",
    "Code civilité d'exercice",
    "Libellé civilité d'exercice",
    "Code civilité",
    "Libellé civilité",
    "Nom d'exercice",
    "Prénom d'exercice",
    "Code profession",
    "Libellé profession",
    "Code catégorie professionnelle",
    "Libellé catégorie professionnelle",
    "Code type savoir-faire",
    "Libellé type savoir-faire",
    "Code savoir-faire",
    "Libellé savoir-faire",
    "Code mode exercice",
    "Libellé mode exercice",
    "Numéro SIRET site",
    "Numéro SIREN site",
    "Numéro FINESS site",
    "Numéro FINESS établissement juridique",
    "Identifiant technique de la structure",
    "Raison sociale site",
    "Enseigne commerciale site",
    "Complément destinataire (coord. structure)",
    "Complément point géographique (coord. structure)",
    "Numéro Voie (coord. structure)",
    "Indice répétition voie (coord. structure)",
    "Code type de voie (coord. structure)",
    "Libellé type de voie (coord. structure)",
    "Libellé Voie (coord. structure)",
    "Mention distribution (coord. structure)",
    "Bureau cedex (coord. structure)",
    "Code postal (coord. structure)",
    "Code commune (coord. structure)",
    "Libellé commune (coord. structure)",
    "Code pays (coord. structure)",
    "Libellé pays (coord. structure)",
    "Téléphone (coord. structure)",
    "Téléphone 2 (coord. structure)",
    "Télécopie (coord. structure)",
    "Adresse e-mail (coord. structure)",
    "Code Département (structure)",
    "Libellé Département (structure)",
    "Ancien identifiant de la structure",
    "Autorité d'enregistrement",
    "Code secteur d'activité",
    "Libellé secteur d'activité",
    "Code section tableau pharmaciens",
    "Libellé section tableau pharmaciens",
)
LAYOUT_56 = (
    *LAYOUT_52,
    "Code rôle",
    "Libellé rôle",
    "Code genre activité",
    "Libellé genre activité",
)

SEX_BY_CIVILITY = {"M": "M", "MME": "F", "MLLE": "F"}
MODES = {"L", "S", "B"}
REPETITION = {"B": "bis", "T": "ter", "Q": "quater", "C": "quinquies"}
RPPS = re.compile(r"^\d{11}$")
INSEE_CODE = re.compile(INSEE_CODE_PATTERN)
FINESS = re.compile(r"^\d[\dAB]\d{7}$")  # 2A/2B for Corsica
SIRET = re.compile(r"^\d{14}$")
POSTAL_CODE = re.compile(r"^\d{5}$")


class RppsFormatError(ValueError):
    """The file cannot be imported at all (header, encoding): nothing is written."""


class NotUtf8(ValueError):
    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


@dataclass(slots=True)
class RppsRow:
    line: int
    rpps: str
    professional: tuple  # values of PROFESSIONAL_FIELDS
    structure_id: str  # "" when the activity has no structure
    structure: tuple  # name, finess_et, finess_ej, siret
    mode: str
    place_name: str
    address: str
    postal_code: str
    commune_code: str
    phone: str
    email: str
    source_key: str


@dataclass
class RppsRejection(Rejection):
    rpps: str = ""  # the row's RPPS when it could be read: that professional is still listed


@dataclass
class RppsImportReport(ImportReport):
    """Counts of situations (one per row) in the base fields, other tables here."""

    professionals: dict = field(
        default_factory=lambda: dict.fromkeys(("created", "updated", "unchanged", "deactivated"), 0)
    )
    structures: dict = field(
        default_factory=lambda: dict.fromkeys(("created", "updated", "unchanged", "linked"), 0)
    )
    duplicates: int = 0  # rows repeating the key of an earlier row: merged into it
    outside: int = 0  # rows outside the territory of a --territory import
    notes: list[str] = field(default_factory=list)
    error: str = ""  # the import was refused or stopped

    def summary(self) -> str:
        # Written here rather than with ImportReport.summary, which turns every comma of its
        # sentence into a space when it formats the numbers.
        pro, structure = self.professionals, self.structures
        lines = [
            f"{self.source} : {self.read} lignes lues ; situations d'exercice : "
            f"{self.created} créées, {self.updated} mises à jour, {self.unchanged} inchangées, "
            f"{self.deactivated} désactivées ; {len(self.rejected)} lignes rejetées "
            f"({_number(self.rows_per_second)} lignes/s).",
            f"Professionnels : {pro['created']} créés, {pro['updated']} mis à jour, "
            f"{pro['unchanged']} inchangés, {pro['deactivated']} désactivés ; structures : "
            f"{structure['created']} créées, {structure['updated']} mises à jour, "
            f"{structure['unchanged']} inchangées, {structure['linked']} rattachées à une "
            f"structure FINESS ; {self.duplicates} lignes en double fusionnées ; "
            f"{self.outside} lignes hors territoire.",
        ]
        lines.extend(self.notes)
        if self.error:
            lines.append(self.error)
        return "\n".join(lines)


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")  # French thousands separator


# --- Parsing (pure) ----------------------------------------------------------------------------


def parse_rpps(lines: Iterable[str]) -> Iterator[RppsRow | RppsRejection]:
    """Rows and rejections of the lines of an extraction (header first, line 1).

    Raises ``RppsFormatError`` when the header lacks a column the import needs.
    """
    iterator = iter(lines)
    header = next(iterator, None)
    if header is None:
        raise RppsFormatError("fichier vide : la ligne d'en-tête est absente")
    names = _cells(header.lstrip("\ufeff"))
    while names and names[-1] == "":
        names.pop()
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        raise RppsFormatError(
            "colonne(s) obligatoire(s) absente(s) de l'en-tête : "
            + ", ".join(f"« {name} »" for name in missing)
        )
    width = len(names)
    pick = itemgetter(*(names.index(name) for name in COLUMNS))
    rpps_at = names.index("Identifiant PP")
    for number, line in enumerate(iterator, start=2):
        cells = _cells(line)
        if len(cells) > width and cells[-1] == "":
            cells.pop()  # the trailing "|"
        if len(cells) != width:
            if cells == [""]:
                continue  # a blank line carries no row
            rpps = cells[rpps_at].strip() if len(cells) > rpps_at else ""
            yield RppsRejection(
                number, _width_reason(len(cells), width), rpps if RPPS.match(rpps) else ""
            )
            continue
        yield _row(number, [cell.strip() for cell in pick(cells)])


def _cells(line: str) -> list[str]:
    return line.rstrip("\r\n").split("|")


def _width_reason(found: int, width: int) -> str:
    if found < width:
        return f"ligne tronquée : {found} colonnes au lieu de {width}"
    return f"nombre de colonnes incorrect : {found} au lieu de {width}"


def _row(number: int, values: list[str]) -> RppsRow | RppsRejection:
    (
        id_type, rpps, civility_code, civility, last_name, first_name, profession_code,
        profession, savoir_faire_code, savoir_faire, mode, siret, finess_et, finess_ej,
        structure_id, company_name, trade_name, recipient, place, number_in_street, repetition,
        street_type_code, street_type, street, distribution, cedex, postal_code, commune_code,
        phone, email,
    ) = values  # fmt: skip
    if not RPPS.match(rpps):
        return RppsRejection(number, _identifier_reason(id_type, rpps))
    if not last_name:
        return RppsRejection(number, f"valeur manquante : « {LAST_NAME} »", rpps)
    if not profession_code or len(profession_code) > 4:
        reason = f"code profession invalide « {profession_code[:10]} »"
        if not profession_code:
            reason = f"valeur manquante : « {PROFESSION_CODE} »"
        return RppsRejection(number, reason, rpps)
    if len(structure_id) > 40:
        return RppsRejection(number, "identifiant technique de structure trop long", rpps)
    raw_address = values[17:28]  # every address cell, as given: part of the row's key
    commune_code = commune_code.upper()
    name = (company_name or trade_name)[:300]
    street_line = " ".join(
        part
        for part in (
            number_in_street,
            REPETITION.get(repetition.upper(), repetition),
            street_type or street_type_code,
            street,
        )
        if part
    )
    address = ", ".join(part for part in (recipient, place, street_line, distribution) if part)
    return RppsRow(
        line=number,
        rpps=rpps,
        professional=(
            civility_code[:4],
            civility[:30],
            last_name[:150],
            first_name[:150],
            SEX_BY_CIVILITY.get(civility_code.upper(), ""),
            profession_code,
            profession[:100],
            savoir_faire_code[:10],
            savoir_faire[:200],
        ),
        structure_id=structure_id,
        structure=(
            name,
            finess_et if FINESS.match(finess_et) else None,
            finess_ej if FINESS.match(finess_ej) else "",
            siret if SIRET.match(siret) else "",
        ),
        mode=mode.upper() if mode.upper() in MODES else "",
        place_name=name,
        address=address[:300],
        postal_code=postal_code if POSTAL_CODE.match(postal_code) else "",
        commune_code=commune_code if INSEE_CODE.match(commune_code) else "",
        phone=phone[:30],
        email=email[:254] if "@" in email else "",
        source_key=_source_key(rpps, structure_id, raw_address),
    )


def _identifier_reason(id_type: str, identifier: str) -> str:
    shown = identifier[:20] or "vide"
    if id_type == "0":
        return (
            f"identifiant ADELI « {shown} » : seuls les professionnels identifiés au RPPS "
            "(11 chiffres) sont importés"
        )
    return f"identifiant RPPS invalide « {shown} » (11 chiffres attendus)"


def _source_key(rpps: str, structure_id: str, address_cells: Iterable[str]) -> str:
    """40 characters: the RPPS (11 digits), then 29 hex digits of a SHA-1 of the row's
    identifying cells. An extraction lists each professional's rows together in RPPS order,
    so new keys go to the end of the unique index instead of random places in it (which,
    past a few hundred thousand rows, made most inserts read and write back a page)."""
    text = "\x1f".join((rpps, structure_id, *address_cells))
    return rpps + hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:29]


# --- Import ------------------------------------------------------------------------------------


def rpps_import(
    *,
    path: Path,
    organisation=None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> RppsImportReport:
    """Import an extraction; with ``organisation``, only the rows of its territory."""
    report = RppsImportReport(source="Import RPPS")
    path = Path(path)
    try:
        total = _check_utf8(path)
        territory = _territory_codes(organisation) if organisation is not None else None
    except NotUtf8 as error:
        report.reject(error.line, "encodage invalide (UTF-8 attendu)")
        report.error = (
            f"Fichier refusé : encodage invalide (UTF-8 attendu) à la ligne {error.line} ; "
            "rien n'a été importé."
        )
        return report
    except OSError as error:
        report.error = f"Fichier illisible : {error.strerror or error}."
        return report
    except RppsFormatError as error:
        report.error = f"Import refusé : {error}."
        return report
    if progress is not None and progress.total is None:
        progress.total = max(total - 1, 0)
    stored = getattr(progress, "stored", False)
    run = RppsRun(report=report, territory=territory, stored_progress=stored)
    with import_session(), run, run.loading():
        if progress is not None:
            progress.in_transaction = run.first_load
        with (
            path.open(encoding="utf-8-sig", newline="\n") as handle,
            read_ahead(
                _batches(parse_rpps(handle), batch_size), _prepared(run), threaded=run.postgres
            ) as ready,
        ):
            try:
                for staged, lines, rejected in ready:
                    report.read += lines
                    report.rejected.extend(rejected)
                    if not run.apply(staged):
                        break
                    if progress is not None:
                        progress.update(report.read)
            except RppsFormatError as error:
                report.error = f"Fichier refusé : {error} ; rien n'a été importé."
                return report
        if progress is not None:
            progress.close(report.read)
        if not report.error:
            run.finish()
    return report


def _check_utf8(path: Path) -> int:
    """The file's line count; ``NotUtf8`` (with the line of the first bad byte) otherwise."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                raise NotUtf8(lines + error.object[: error.start].count(b"\n") + 1) from None
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise NotUtf8(lines + 1) from None
    return lines + (last != b"\n")


def _batches(items: Iterator[RppsRow | RppsRejection], size: int):
    """(rows, lines read, rejections) per ``size`` rows; rejections name their RPPS, if any."""
    rows: list[RppsRow] = []
    rejected: list[RppsRejection] = []
    lines = 0
    for item in items:
        lines += 1
        if isinstance(item, RppsRejection):
            rejected.append(item)
            continue
        rows.append(item)
        if len(rows) == size:
            yield rows, lines, rejected
            rows, rejected, lines = [], [], 0
    if rows or rejected or lines:
        yield rows, lines, rejected


def _prepared(run: RppsRun):
    """A batch of ``_batches`` with its rows prepared for the run (in the reading thread)."""

    def prepare(batch: tuple) -> tuple:
        rows, lines, rejected = batch
        return run.prepare(rows), lines, rejected

    return prepare


def _territory_codes(organisation) -> set[str]:
    """The territory's communes, and the arrondissements of its cities."""
    with scopes_disabled():
        territory = Territory.objects.filter(organisation=organisation).first()
        if territory is None:
            raise RppsFormatError(f"l'organisation « {organisation} » n'a pas de territoire")
        codes = set(territory.communes.values_list("insee", flat=True))
    codes |= set(
        Commune.objects.filter(parent__in=codes, kind=Commune.Kind.ARRONDISSEMENT).values_list(
            "insee", flat=True
        )
    )
    return codes
