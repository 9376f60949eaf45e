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
batches of ``BATCH_SIZE`` rows, each in one transaction: per batch, the existing rows of the
batch's keys are read in one query per table, new ones are inserted with one ``executemany``,
changed ones updated with one ``executemany``; unchanged ones only get their freshness
date. A whole-country import then deactivates the professionals (and situations) absent from
the file; an import restricted to a territory deactivates only that territory's situations.
"""

import codecs
import hashlib
import re
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from django.db import DatabaseError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django_scopes import scopes_disabled

from parcours.territory.models import INSEE_CODE_PATTERN, Commune, Territory

from .importing import (
    BATCH_SIZE,
    ImportReport,
    Progress,
    Rejection,
    ahead,
    batches,
    fast_commit,
    import_session,
    insert_rows,
    keyed,
    update_rows,
)
from .models import LocationPrecision, PracticeSituation, Professional, Source, Structure

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

PROFESSIONAL_FIELDS = (
    "civility_code",
    "civility",
    "last_name",
    "first_name",
    "sex",
    "profession_code",
    "profession",
    "savoir_faire_code",
    "savoir_faire",
)
SAVOIR_FAIRE = slice(7, 9)  # savoir_faire_code, savoir_faire in PROFESSIONAL_FIELDS
STRUCTURE_FIELDS = ("name", "finess_ej", "siret", "address", "postal_code", "commune_id")
SITUATION_FIELDS = (
    "professional_id",
    "structure_id",
    "mode",
    "place_name",
    "address",
    "postal_code",
    "commune_id",
)
CONTACT_FIELDS = ("phone", "email")
LOCATION_FIELDS = ("latitude", "longitude", "location_precision")
FRESHNESS_FIELDS = ("is_active", "source", "checked_on", "checked_by_id")
# Coordinates finer than the commune centre come from the geocoder: a re-import keeps them.
GEOCODED = {LocationPrecision.ADDRESS.value, LocationPrecision.STREET.value}
RPPS_SOURCE = Source.RPPS.value

SEX_BY_CIVILITY = {"M": "M", "MME": "F", "MLLE": "F"}
MODES = {"L", "S", "B"}
REPETITION = {"B": "bis", "T": "ter", "Q": "quater", "C": "quinquies"}
RPPS = re.compile(r"^\d{11}$")
INSEE_CODE = re.compile(INSEE_CODE_PATTERN)
FINESS = re.compile(r"^\d[\dAB]\d{7}$")  # 2A/2B for Corsica
SIRET = re.compile(r"^\d{14}$")
POSTAL_CODE = re.compile(r"^\d{5}$")
# A whole-country import never deactivates more than this share of the active rows at once
# (beyond MIN_GUARDED rows): a truncated download must not empty the directory.
MAX_DEACTIVATED_SHARE = 0.10
MIN_GUARDED = 1_000


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
    with import_session():
        run = _Run(report=report, territory=territory)
        with path.open(encoding="utf-8-sig", newline="\n") as handle:
            try:  # the file is parsed by a thread, while the batches are written
                with closing(ahead(_batches(parse_rpps(handle), batch_size))) as parsed:
                    for batch, lines, rejected in parsed:
                        report.read += lines
                        report.rejected.extend(rejected)
                        if batch and not run.apply(batch):
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


@dataclass
class _Batch:
    """What one batch adds to the run, merged into it once the batch is committed."""

    professionals: dict[str, int] = field(default_factory=dict)
    without_savoir_faire: set[str] = field(default_factory=set)
    with_savoir_faire: set[str] = field(default_factory=set)
    structures: dict[str, int] = field(default_factory=dict)
    situations: set[int] = field(default_factory=set)
    counts: dict = field(default_factory=dict)

    def count(self, key: tuple[str, str], number: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + number


class _Run:
    """The state of one import: what was seen (committed), the communes, the territory."""

    def __init__(self, *, report: RppsImportReport, territory: set[str] | None):
        self.report = report
        self.territory = territory
        self.today = timezone.localdate()
        self.communes = {
            code: (latitude, longitude)
            for code, latitude, longitude in Commune.objects.values_list(
                "insee", "latitude", "longitude"
            )
        }
        self.professionals: dict[str, int] = {}  # RPPS -> pk, seen in this run
        self.without_savoir_faire: set[str] = set()
        self.structures: dict[str, int] = {}  # structure identifier -> pk
        self.situations: set[int] = set()

    # Each batch --------------------------------------------------------------------------------

    def apply(self, rows: list[RppsRow]) -> bool:
        if self.territory is not None:
            kept = [row for row in rows if row.commune_code in self.territory]
            self.report.outside += len(rows) - len(kept)
            rows = kept
        batch = _Batch()
        try:
            with transaction.atomic():
                fast_commit()
                self._professionals(rows, batch)
                self._structures(rows, batch)
                self._situations(rows, batch)
        except DatabaseError as error:
            first, last = rows[0].line, rows[-1].line
            self.report.error = (
                f"Import interrompu : le lot des lignes {first} à {last} a été annulé "
                f"(erreur de base de données : {str(error)[:200]}). Les lots précédents sont "
                "enregistrés ; relancer l'import le complète sans doublon."
            )
            return False
        self._commit(batch)
        return True

    def _commit(self, batch: _Batch) -> None:
        self.professionals.update(batch.professionals)
        self.without_savoir_faire |= batch.without_savoir_faire
        self.without_savoir_faire -= batch.with_savoir_faire
        self.structures.update(batch.structures)
        self.situations |= batch.situations
        report = self.report
        for (table, what), number in batch.counts.items():
            if table == "situation":
                setattr(report, what, getattr(report, what) + number)
            elif table == "duplicate":
                report.duplicates += number
            else:
                counts = report.professionals if table == "professional" else report.structures
                counts[what] += number

    def _fresh(self, existing_freshness: tuple) -> bool:
        return existing_freshness == (True, RPPS_SOURCE, self.today, None)

    # Professionals -----------------------------------------------------------------------------

    def _professionals(self, rows: list[RppsRow], batch: _Batch) -> None:
        """First row of a professional wins, except the savoir-faire: first non-empty one."""
        wanted: dict[str, list] = {}
        for row in rows:
            values = wanted.get(row.rpps)
            if values is None:
                wanted[row.rpps] = list(row.professional)
            elif not any(values[SAVOIR_FAIRE]) and any(row.professional[SAVOIR_FAIRE]):
                values[SAVOIR_FAIRE] = row.professional[SAVOIR_FAIRE]
        late = {  # seen in an earlier batch without savoir-faire, which this batch brings
            rpps: values[SAVOIR_FAIRE]
            for rpps, values in wanted.items()
            if rpps in self.without_savoir_faire and any(values[SAVOIR_FAIRE])
        }
        if late:
            update_rows(
                Professional,
                ("savoir_faire_code", "savoir_faire"),
                [(*values, self.professionals[rpps]) for rpps, values in late.items()],
            )
            batch.with_savoir_faire.update(late)
        wanted = {rpps: v for rpps, v in wanted.items() if rpps not in self.professionals}
        existing = {
            values[1]: values
            for values in keyed(Professional.objects.all(), "rpps", wanted).values_list(
                "pk", "rpps", *PROFESSIONAL_FIELDS, *FRESHNESS_FIELDS
            )
        }
        width = len(PROFESSIONAL_FIELDS)
        new, changed, stale = [], [], []
        for rpps, values in wanted.items():
            current = existing.get(rpps)
            if not any(values[SAVOIR_FAIRE]):
                # A later row may bring one: keep the stored one until the end of the run.
                batch.without_savoir_faire.add(rpps)
                if current is not None:
                    values[SAVOIR_FAIRE] = current[2 + SAVOIR_FAIRE.start : 2 + SAVOIR_FAIRE.stop]
            if current is None:
                new.append({"rpps": rpps, **_named(values), **self._freshness()})
            elif list(current[2 : 2 + width]) != values or current[2 + width] is not True:
                changed.append((*values, *self._freshness().values(), current[0]))
            else:
                batch.count(("professional", "unchanged"))
                if not self._fresh(current[2 + width :]):
                    stale.append(current[0])
        created = insert_rows(Professional, new, "rpps")
        update_rows(Professional, (*PROFESSIONAL_FIELDS, *FRESHNESS_FIELDS), changed)
        self._touch(Professional, stale)
        batch.count(("professional", "created"), len(new))
        batch.count(("professional", "updated"), len(changed))
        batch.professionals.update({rpps: current[0] for rpps, current in existing.items()})
        batch.professionals.update(created)

    def _freshness(self) -> dict:
        return {
            "is_active": True,
            "source": RPPS_SOURCE,
            "checked_on": self.today,
            "checked_by_id": None,
        }

    def _touch(self, model: type[models.Model], pks: list[int]) -> None:
        """Seen again, unchanged: only the freshness moves."""
        if pks:
            keyed(model.objects.all(), "id", pks).update(**self._freshness())

    # Structures --------------------------------------------------------------------------------

    def _structures(self, rows: list[RppsRow], batch: _Batch) -> None:
        wanted: dict[str, RppsRow] = {}
        for row in rows:
            if row.structure_id and row.structure_id not in self.structures:
                wanted.setdefault(row.structure_id, row)
        existing = {
            values[1]: values
            for values in keyed(Structure.objects.all(), "rpps_structure_id", wanted).values_list(
                "pk",
                "rpps_structure_id",
                *STRUCTURE_FIELDS,
                *CONTACT_FIELDS,
                "email_public",
                *LOCATION_FIELDS,
                *FRESHNESS_FIELDS,
            )
        }
        missing = {key: row for key, row in wanted.items() if key not in existing}
        by_finess = self._structures_by_finess(missing, batch)
        new: dict[str, dict] = {}
        new_by_finess: dict[str, str] = {}
        for key, row in missing.items():
            finess = row.structure[1]
            if finess in by_finess:
                continue
            if finess is not None and finess in new_by_finess:
                batch.structures[key] = None  # resolved below, once the first one has its pk
                continue
            new[key] = {
                "rpps_structure_id": key,
                "finess_et": finess,
                **self._structure_values(row),
                "phone_public": True,
                "email_public": False,
                **self._freshness(),
            }
            if finess is not None:
                new_by_finess[finess] = key
        created = insert_rows(Structure, list(new.values()), "rpps_structure_id")
        batch.count(("structure", "created"), len(new))
        batch.structures.update(created)
        for key in [key for key, pk in batch.structures.items() if pk is None]:
            batch.structures[key] = created[new_by_finess[missing[key].structure[1]]]
        self._structures_update(wanted, existing, batch)

    def _structures_by_finess(self, missing: dict[str, RppsRow], batch: _Batch) -> set[str]:
        """Link rows to the structures the FINESS import already holds; their FINESS numbers."""
        keys_by_finess: dict[str, list[str]] = {}
        for key, row in missing.items():
            if row.structure[1]:
                keys_by_finess.setdefault(row.structure[1], []).append(key)
        if not keys_by_finess:
            return set()
        found = keyed(Structure.objects.all(), "finess_et", keys_by_finess).values_list(
            "pk", "finess_et", "rpps_structure_id"
        )
        claim = []  # FINESS structures not yet linked take the first identifier met
        for pk, finess, rpps_structure_id in found:
            for key in keys_by_finess[finess]:
                batch.structures[key] = pk
                batch.count(("structure", "linked"))
            if rpps_structure_id is None:
                claim.append((keys_by_finess[finess][0], pk))
        update_rows(Structure, ("rpps_structure_id",), claim)
        return {finess for _pk, finess, _id in found}

    def _structure_values(self, row: RppsRow) -> dict:
        name, _finess_et, finess_ej, siret = row.structure
        return {
            "name": name,
            "finess_ej": finess_ej,
            "siret": siret,
            "address": row.address,
            "postal_code": row.postal_code,
            "commune_id": row.commune_code if row.commune_code in self.communes else None,
            "phone": row.phone,
            "email": row.email,
            **self._location(row.commune_code),
        }

    def _structures_update(self, wanted: dict, existing: dict, batch: _Batch) -> None:
        """Only the RPPS import's own structures follow the RPPS rows; FINESS ones are linked."""
        updates: dict[tuple, list] = {}
        stale = []
        for key, current in existing.items():
            pk = current[0]
            batch.structures[key] = pk
            *_, active, source, checked_on, checked_by = current
            if source != Source.RPPS:  # a FINESS structure: linked, never rewritten
                batch.count(("structure", "linked"))
                continue
            values = {**self._structure_values(wanted[key]), "email_public": False}
            fields = self._changed(current[2:], values, (*STRUCTURE_FIELDS, *CONTACT_FIELDS))
            if not fields:
                batch.count(("structure", "unchanged"))
                if not self._fresh(current[-4:]):
                    stale.append(pk)
                continue
            updates.setdefault(fields, []).append(
                (*(values[name] for name in fields), *self._freshness().values(), pk)
            )
            batch.count(("structure", "updated"))
        for fields, rows in updates.items():
            update_rows(Structure, (*fields, *FRESHNESS_FIELDS), rows)
        self._touch(Structure, stale)

    def _changed(self, current: tuple, values: dict, names: tuple[str, ...]) -> tuple:
        """The fields to write: the data fields and, when changed, visibility and location.

        ``current`` holds the data fields, then e-mail visibility, location and freshness.
        An e-mail that changes becomes private again; coordinates from the geocoder are kept.
        """
        width = len(names)
        data_changed = list(current[:width]) != [values[name] for name in names]
        email_changed = current[names.index("email")] != values["email"]
        geocoded = current[width + 3] in GEOCODED
        location_changed = not geocoded and tuple(current[width + 1 : width + 4]) != tuple(
            values[name] for name in LOCATION_FIELDS
        )
        if not (data_changed or location_changed or current[width + 4] is not True):
            return ()
        fields = names + (("email_public",) if email_changed else ())
        return fields + (() if geocoded else LOCATION_FIELDS)

    def _location(self, commune_code: str) -> dict:
        latitude, longitude = self.communes.get(commune_code) or (None, None)
        if latitude is None or longitude is None:
            return {
                "latitude": None,
                "longitude": None,
                "location_precision": LocationPrecision.UNKNOWN.value,
            }
        return {
            "latitude": latitude,
            "longitude": longitude,
            "location_precision": LocationPrecision.COMMUNE.value,
        }

    # Practice situations -----------------------------------------------------------------------

    def _situations(self, rows: list[RppsRow], batch: _Batch) -> None:
        wanted: dict[str, RppsRow] = {}
        for row in rows:
            if row.source_key in wanted:
                batch.count(("duplicate", ""))
            else:
                wanted[row.source_key] = row
        existing = keyed(PracticeSituation.objects.all(), "source_key", wanted).values_list(
            "pk",
            "source_key",
            *SITUATION_FIELDS,
            *CONTACT_FIELDS,
            "email_public",
            *LOCATION_FIELDS,
            *FRESHNESS_FIELDS,
        )
        updates: dict[tuple, list] = {}
        stale = []
        names = (*SITUATION_FIELDS, *CONTACT_FIELDS)
        for current in existing:
            pk, key = current[0], current[1]
            row = wanted.pop(key)
            if pk in self.situations:  # an earlier batch of this run had the same key
                batch.count(("duplicate", ""))
                continue
            batch.situations.add(pk)
            values = {**self._situation_values(row, batch), "email_public": False}
            fields = self._changed(current[2:], values, names)
            if not fields:
                batch.count(("situation", "unchanged"))
                if not self._fresh(current[-4:]):
                    stale.append(pk)
                continue
            updates.setdefault(fields, []).append(
                (*(values[name] for name in fields), *self._freshness().values(), pk)
            )
            batch.count(("situation", "updated"))
        new = [
            {
                "source_key": key,
                "phone_public": True,
                "email_public": False,
                **self._situation_values(row, batch),
                **self._freshness(),
            }
            for key, row in wanted.items()
        ]
        batch.situations.update(insert_rows(PracticeSituation, new, "source_key").values())
        batch.count(("situation", "created"), len(new))
        for fields, values in updates.items():
            update_rows(PracticeSituation, (*fields, *FRESHNESS_FIELDS), values)
        self._touch(PracticeSituation, stale)

    def _situation_values(self, row: RppsRow, batch: _Batch) -> dict:
        structure_id = None
        if row.structure_id:
            structure_id = self.structures.get(row.structure_id) or batch.structures.get(
                row.structure_id
            )
        return {
            "professional_id": self.professionals.get(row.rpps) or batch.professionals[row.rpps],
            "structure_id": structure_id,
            "mode": row.mode,
            "place_name": row.place_name,
            "address": row.address,
            "postal_code": row.postal_code,
            "commune_id": row.commune_code if row.commune_code in self.communes else None,
            "phone": row.phone,
            "email": row.email,
            **self._location(row.commune_code),
        }

    # Deactivation ------------------------------------------------------------------------------

    def finish(self) -> None:
        """After the last batch of a complete run: savoir-faire left empty, then absentees."""
        if self.territory is None:
            self._clear_savoir_faire()
        listed = self._professionals_in_rejected_rows()
        if self.territory is None and not self._deactivate_professionals(listed):
            return
        situations = PracticeSituation.objects.filter(is_active=True)
        if self.territory is None:
            situations = situations.filter(Q(source=Source.RPPS) | Q(professional__is_active=False))
        else:
            situations = situations.filter(source=Source.RPPS, commune__in=self.territory)
        gone = [
            pk
            for pk, professional in situations.values_list("pk", "professional_id")
            if pk not in self.situations and professional not in listed
        ]
        if self._guard("situations d'exercice", gone, situations):
            _set_inactive(PracticeSituation, gone)
            self.report.deactivated += len(gone)

    def _clear_savoir_faire(self) -> None:
        """Professionals none of whose rows had a savoir-faire lose the stored one.

        Those rows were counted unchanged when nothing else changed: they move to updated.
        """
        pks = [self.professionals[rpps] for rpps in self.without_savoir_faire]
        cleared = 0
        for chunk in batches(pks):
            cleared += (
                Professional.objects.filter(pk__in=chunk)
                .exclude(savoir_faire_code="", savoir_faire="")
                .update(savoir_faire_code="", savoir_faire="")
            )
        self.report.professionals["updated"] += cleared
        self.report.professionals["unchanged"] -= cleared

    def _deactivate_professionals(self, listed: set[int]) -> bool:
        seen = set(self.professionals.values()) | listed
        active = Professional.objects.filter(is_active=True)
        gone = [pk for pk in active.values_list("pk", flat=True) if pk not in seen]
        if not self._guard("professionnels", gone, active):
            return False
        _set_inactive(Professional, gone)
        self.report.professionals["deactivated"] += len(gone)
        return True

    def _professionals_in_rejected_rows(self) -> set[int]:
        """Professionals named by a rejected row are still in the file: never deactivated."""
        numbers = {rejection.rpps for rejection in self.report.rejected if rejection.rpps}
        found: set[int] = set()
        for chunk in batches(sorted(numbers)):
            found.update(Professional.objects.filter(rpps__in=chunk).values_list("pk", flat=True))
        return found

    def _guard(self, what: str, gone: list[int], active: models.QuerySet) -> bool:
        if len(gone) <= MIN_GUARDED:
            return True
        total = active.count()
        if len(gone) <= MAX_DEACTIVATED_SHARE * total:
            return True
        self.report.notes.append(
            f"Désactivation non faite : {len(gone)} {what} sur {total} auraient été désactivés "
            f"(plus de {MAX_DEACTIVATED_SHARE:.0%}) ; le fichier est-il complet ?"
        )
        return False


# --- Writing helpers ---------------------------------------------------------------------------


def _named(values: list) -> dict:
    return dict(zip(PROFESSIONAL_FIELDS, values, strict=True))


def _set_inactive(model: type[models.Model], pks: list[int]) -> None:
    for chunk in batches(pks):
        with transaction.atomic():
            model.objects.filter(pk__in=chunk).update(is_active=False)
