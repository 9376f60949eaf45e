"""Writing parsed RPPS rows into the directory, set-based (the "run" of one import).

Each batch of rows is copied into three temporary tables, its professionals, structures
and situations (their first rows: ``COPY`` on PostgreSQL, one ``executemany`` on SQLite),
then applied by a few SQL statements, in one transaction: the batch applies fully or not
at all. Python's share of a row is its parsing and a tuple or two; finding the stored rows,
comparing, inserting, updating and linking are the database's, one statement each for the
whole batch (docs/performance.md).

The rules (the same as when they were written per row in Python):
- professionals: the first row of a professional wins, except the savoir-faire, taken from
  its first row that has one; a professional whose rows have none keeps the stored one
  until the end of a whole-country run, which clears it;
- structures: keyed by the RPPS's "identifiant technique"; a structure the FINESS import
  holds (same FINESS ET number) is linked, never rewritten, and the first identifier met
  is recorded on it; two new identifiers with one FINESS number make one structure;
- situations: keyed by ``source_key``; a key met again in the run is a duplicate, merged;
- updates write only rows that changed; an e-mail that changes becomes private again;
  coordinates refined by the geocoder (address or street precision) are kept; unchanged
  rows only get their freshness (source, checked on today, checked by nobody).

What the run has seen (professionals, structures, situations) is kept in temporary tables
of the connection, so that a batch's rollback forgets what it saw too; ``finish`` reads
them to deactivate what the file no longer lists.

A first load (a whole-country run into a directory without professionals or situations;
on SQLite, from the command line) is one transaction around all the batches, which
rebuilds the loaded tables' secondary indexes once at its end (see ``RppsRun.loading``);
its professionals and situations, stored by the run alone, are not looked up again.

``prepare`` arranges a batch without the database (in the reading thread, see
``importing.read_ahead``); ``apply`` writes it.
"""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import NamedTuple

from django.db import DatabaseError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from parcours.territory.models import Commune

from .importing import batches, column_defaults, copy_rows, copy_text, fast_commit
from .models import LocationPrecision, PracticeSituation, Professional, Source, Structure

GEOCODED = (LocationPrecision.ADDRESS.value, LocationPrecision.STREET.value)
RPPS_SOURCE = Source.RPPS.value
# A whole-country import never deactivates more than this share of the active rows at once
# (beyond MIN_GUARDED rows): a truncated download must not empty the directory.
MAX_DEACTIVATED_SHARE = 0.10
MIN_GUARDED = 1_000
# PostgreSQL keeps a session's temporary tables in its own buffers (temp_buffers, 8 MB by
# default): the run's tables outgrow them past about 100,000 rows, and every lookup in them
# then goes through the operating system. Allocated as used; 512 MB hold a national run.
TEMP_BUFFERS = "512MB"

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
PLACE_FIELDS = ("address", "postal_code", "commune_id", "phone", "email")
LOCATION_FIELDS = ("latitude", "longitude", "location_precision")
SAVOIR_FAIRE = slice(7, 9)  # in PROFESSIONAL_FIELDS
SAVOIR_FAIRE_CELLS = slice(8, 11)  # savoir-faire and has_savoir_faire in a batch row
STRUCTURE_FIELDS = ("name", "finess_ej", "siret", *PLACE_FIELDS)
SITUATION_FIELDS = ("professional_id", "structure_id", "mode", "place_name", *PLACE_FIELDS)

# The temporary tables: (name, columns). A batch's rows, one per professional, structure
# and situation (the first of the batch, see RppsRun._stage), with "target": the stored row.
BATCH_PROFESSIONALS = (
    ("rpps", "text PRIMARY KEY"),
    *((name, "text") for name in PROFESSIONAL_FIELDS),
    ("has_savoir_faire", "boolean"),
    ("target", "bigint"),
)
BATCH_STRUCTURES = (
    ("structure_id", "text PRIMARY KEY"),
    ("line", "integer"),
    ("name", "text"),
    ("finess_et", "text"),  # NULL: none, or not a valid number
    ("finess_ej", "text"),
    ("siret", "text"),
    *((name, "text") for name in PLACE_FIELDS),
    ("latitude", "double precision"),
    ("longitude", "double precision"),
    ("location_precision", "text"),
    ("target", "bigint"),
    ("target_source", "text"),
    ("by_finess", "boolean"),  # found by its FINESS number
    ("claimed", "boolean"),  # that structure already records an RPPS identifier
)
BATCH_SITUATIONS = (
    ("source_key", "text PRIMARY KEY"),
    ("rpps", "text"),
    ("structure_key", "text"),  # NULL: no structure
    ("mode", "text"),
    ("place_name", "text"),
    *((name, "text") for name in PLACE_FIELDS),  # commune_id NULL: unknown commune
    ("latitude", "double precision"),
    ("longitude", "double precision"),
    ("location_precision", "text"),
    ("professional_id", "bigint"),
    ("structure_id", "bigint"),
    ("target", "bigint"),
)
# What the run has seen, committed batch by batch.
RUN_PROFESSIONALS = (
    ("rpps", "text PRIMARY KEY"),
    ("id", "bigint"),
    ("savoir_faire_missing", "boolean"),
)
RUN_STRUCTURES = (("structure_id", "text PRIMARY KEY"), ("id", "bigint"))
RUN_SITUATIONS = (("id", "bigint PRIMARY KEY"),)
BATCH_TABLES = {
    "rpps_batch_professional": BATCH_PROFESSIONALS,
    "rpps_batch_structure": BATCH_STRUCTURES,
    "rpps_batch_situation": BATCH_SITUATIONS,
}
TABLES = {
    **BATCH_TABLES,
    "rpps_run_professional": RUN_PROFESSIONALS,
    "rpps_run_structure": RUN_STRUCTURES,
    "rpps_run_situation": RUN_SITUATIONS,
}


def _names(columns: tuple, count: int | None = None) -> list[str]:
    return [name for name, _kind in columns[:count]]


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _defaults(model: type[models.Model], given: tuple[str, ...]) -> tuple[str, str, list]:
    """For an INSERT naming ``given``: the other columns (", a, b"), their placeholders and
    their model defaults."""
    columns, defaults = column_defaults(model, given)
    names = "".join(f", {connection.ops.quote_name(column)}" for column in columns)
    return names, ", %s" * len(columns), defaults


class RppsRun:
    """One import: the state it keeps (in temporary tables), a batch, then the ending."""

    def __init__(self, *, report, territory: set[str] | None, stored_progress: bool = False):
        self.report = report
        self.territory = territory
        self.today = timezone.localdate()
        # commune -> (commune_id, latitude, longitude, location precision) of its rows
        commune, unknown = LocationPrecision.COMMUNE.value, LocationPrecision.UNKNOWN.value
        self.located = {
            code: (code, latitude, longitude, commune)
            if latitude is not None and longitude is not None
            else (code, None, None, unknown)
            for code, latitude, longitude in Commune.objects.values_list(
                "insee", "latitude", "longitude"
            )
        }
        self.nowhere = (None, None, None, unknown)
        self.postgres = postgres = connection.vendor == "postgresql"
        self.distinct = "IS DISTINCT FROM" if postgres else "IS NOT"
        self.P, self.S, self.X = (
            _table(model) for model in (Professional, Structure, PracticeSituation)
        )
        self.params = {
            "today": connection.ops.adapt_datefield_value(self.today),
            "rpps": RPPS_SOURCE,
        }
        # SQLite has one writer: a progress written in the database (a web job) could not be
        # written beside a first load's transaction, so such an import goes batch by batch.
        self.first_load = (
            (postgres or not stored_progress)
            and territory is None
            and not Professional.objects.exists()
            and not PracticeSituation.objects.exists()
        )

    # Temporary tables --------------------------------------------------------------------------

    def __enter__(self) -> "RppsRun":
        with connection.cursor() as cursor:
            if self.postgres:
                _temp_buffers(cursor)
            for name, columns in TABLES.items():
                self._create(cursor, name, columns)
        return self

    def _create(self, cursor, name: str, columns: tuple) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        described = ", ".join(f"{column} {kind}" for column, kind in columns)
        cursor.execute(f"CREATE TEMPORARY TABLE {name} ({described})")

    def __exit__(self, *exc_info) -> None:
        try:
            with connection.cursor() as cursor:
                for name in TABLES:
                    cursor.execute(f"DROP TABLE IF EXISTS {name}")
        except DatabaseError:  # the connection is gone: so are its temporary tables
            if exc_info[0] is None:
                raise

    # A first load ------------------------------------------------------------------------------

    @contextmanager
    def loading(self) -> Iterator[None]:
        """Around the batches and the ending of a run.

        A first load (``first_load``) is one transaction. At its start, the secondary
        indexes of professionals and situations and the situations' foreign key to
        professionals are dropped; at its end, once every batch is written, they are created
        again, inside it: one sorted build of each index and one join to check the foreign
        key, instead of an index entry per inserted row and a lookup per situation at each
        commit (a third of the server's time). Nothing of it is seen before it commits, and
        an interrupted first load leaves the directory as it was, indexes included: run
        again, it starts over. The two tables, empty until then, are locked for its duration
        (reading them waits: pages listing professionals wait for the load); no other table
        is locked by it (dropping a foreign key to structures or communes would lock them
        too: those keys stay, checked at the end of each batch, see ``apply``). The tables
        it filled are analysed at its end. Other runs commit batch by batch.

        SQLite (a first load from the command line, see ``stored_progress``): the same,
        but SQLite has one writer, so the whole database waits for the load to write (the
        application's writes wait, then fail after SQLite's timeout); readers see the
        directory as it was until it commits. Its foreign keys are checked row by row; no
        statistics are gathered (batch-by-batch runs gather none either).

        The two tables are locked before anything else, then found empty again: a run that
        began at the same time and filled them meanwhile makes this one go batch by batch.
        """
        with ExitStack() as load:
            if self.first_load:
                load.enter_context(transaction.atomic())
                self.first_load = self._still_empty()
                if not self.first_load:
                    load.close()  # commits nothing, releases the locks
            if not self.first_load:
                yield
                return
            with connection.cursor() as cursor:
                rebuild = _drop_secondary(cursor)
            yield
            if self.report.error:
                transaction.set_rollback(True)
                return
            with connection.cursor() as cursor:
                if self.postgres:
                    # The batches' planner settings (see _plan) no longer hold: whole tables.
                    cursor.execute(
                        "SET LOCAL enable_hashjoin = on; SET LOCAL enable_mergejoin = on; "
                        "SET LOCAL maintenance_work_mem = '256MB'"
                    )
                    # The foreign keys kept are checked now (an index is not created on a
                    # table with checks pending), as they would be at the commit.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for statement in rebuild:
                    cursor.execute(statement)
                if self.postgres:
                    # Statistics of the tables loaded, for the pages' plans (autovacuum would
                    # come later, if it runs at all: PostgreSQL's advice after a bulk load).
                    tables = ", ".join(_table(model) for model in LOADED)
                    cursor.execute(f"ANALYZE {tables}")

    def _still_empty(self) -> bool:
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(f"LOCK TABLE {self.P}, {self.X} IN ACCESS EXCLUSIVE MODE")
            else:  # a write, even of nothing, takes the database's one write lock
                cursor.execute(f"DELETE FROM {self.P} WHERE 0")  # noqa: S608
        return not Professional.objects.exists() and not PracticeSituation.objects.exists()

    # Each batch --------------------------------------------------------------------------------

    def prepare(self, rows: list) -> "Staged":
        """A batch's rows arranged for its tables (pure Python, no database: see
        ``importing.read_ahead``): per professional its first row (with the first
        savoir-faire given), per structure and per situation key the first row."""
        outside = 0
        if self.territory is not None:
            kept = [row for row in rows if row.commune_code in self.territory]
            outside, rows = len(rows) - len(kept), kept
        located, nowhere = self.located, self.nowhere
        professionals: dict[str, list] = {}
        structures: dict[str, tuple] = {}
        situations: dict[str, tuple] = {}
        for row in rows:
            values = professionals.get(row.rpps)
            if values is None:
                professionals[row.rpps] = [row.rpps, *row.professional, False]
                values = professionals[row.rpps]
            if not values[-1] and any(row.professional[SAVOIR_FAIRE]):
                values[SAVOIR_FAIRE_CELLS] = (*row.professional[SAVOIR_FAIRE], True)
            if row.source_key in situations:
                continue
            commune, latitude, longitude, precision = located.get(row.commune_code, nowhere)
            place = (row.address, row.postal_code, commune, row.phone, row.email)
            place += (latitude, longitude, precision)
            structure_key = row.structure_id or None
            if structure_key is not None and structure_key not in structures:
                name, finess_et, finess_ej, siret = row.structure
                structures[structure_key] = (
                    structure_key, row.line, name, finess_et, finess_ej, siret, *place
                )  # fmt: skip
            situations[row.source_key] = (
                row.source_key, row.rpps, structure_key, row.mode, row.place_name, *place
            )  # fmt: skip
        lines = (rows[0].line, rows[-1].line) if rows else (0, 0)
        tables = {}
        for name, items in (
            ("rpps_batch_professional", professionals),
            ("rpps_batch_structure", structures),
            ("rpps_batch_situation", situations),
        ):
            if items:
                values = list(items.values())
                columns = _names(BATCH_TABLES[name], len(values[0]))
                tables[name] = (columns, copy_text(values) if self.postgres else values)
        return Staged(lines, outside, tables, len(rows) - len(situations))

    def apply(self, staged: "Staged") -> bool:
        """Write a prepared batch; False (and the report's error) if the database refused it."""
        self.report.outside += staged.outside
        if not staged.tables:
            return True
        counts: dict[tuple[str, str], int] = {}
        try:
            # A first load's batches are in its transaction (its failure is the whole load's).
            with (
                transaction.atomic(savepoint=not self.first_load),
                connection.cursor() as cursor,
            ):
                fast_commit()
                self._plan(cursor)
                self._stage(cursor, staged)
                self._professionals(cursor, counts)
                self._structures(cursor, counts)
                self._situations(cursor, counts, staged.repeated)
                if self.first_load and self.postgres:
                    # The batch's foreign keys checked now rather than at the load's end:
                    # PostgreSQL goes through every pending check at each TRUNCATE of the
                    # batch tables, and a failure names its batch.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED")
        except DatabaseError as error:
            first, last = staged.lines
            cause = f"erreur de base de données : {str(error)[:200]}"
            if self.first_load:
                self.report.error = (
                    f"Premier chargement interrompu au lot des lignes {first} à {last} ({cause})"
                    ". Rien n'a été enregistré ; relancer l'import le reprend depuis le début."
                )
            else:
                self.report.error = (
                    f"Import interrompu : le lot des lignes {first} à {last} a été annulé "
                    f"({cause}). Les lots précédents sont enregistrés ; relancer l'import le "
                    "complète sans doublon."
                )
            return False
        self._count(counts)
        return True

    def _plan(self, cursor) -> None:
        """PostgreSQL, for this batch's transaction: every join of a batch's statements
        matches its rows (a few thousand) with stored rows through a unique index. The
        statistics of tables an import is filling are those of a much smaller table, with
        which the planner hashes the whole stored table (one read of it per statement and
        per batch); and a batch's sorts fit in memory."""
        if self.postgres:
            cursor.execute(
                "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; "
                "SET LOCAL work_mem = '64MB'"
            )

    def _count(self, counts: dict) -> None:
        report = self.report
        for (table, what), number in counts.items():
            if table == "situation":
                setattr(report, what, getattr(report, what) + number)
            elif table == "duplicate":
                report.duplicates += number
            else:
                tally = report.professionals if table == "professional" else report.structures
                tally[what] += number

    def _run(self, cursor, sql: str, *names: str, extra: list | tuple = ()) -> int:
        """Run one statement with the run's named values (then ``extra``); the rows it
        changed."""
        cursor.execute(sql, [*(self.params[name] for name in names), *extra])
        return cursor.rowcount

    def _scalar(self, cursor, sql: str):
        cursor.execute(sql)
        return cursor.fetchone()[0]

    def _stage(self, cursor, staged: "Staged") -> None:
        """Copy the prepared batch into its tables."""
        if self.postgres:
            cursor.execute(f"TRUNCATE {', '.join(BATCH_TABLES)}")
        else:
            for name in BATCH_TABLES:
                cursor.execute(f"DELETE FROM {name}")  # noqa: S608
        for name, (columns, rows) in staged.tables.items():
            copy_rows(cursor, name, columns, rows)

    def _changes(self, target: str, names: tuple[str, ...], located: bool = False) -> str:
        """The condition that the stored row ``target`` differs from the batch row ``b``."""
        different = [f"{target}.{name} {self.distinct} b.{name}" for name in names]
        if located:
            geocoded = ", ".join(f"'{value}'" for value in GEOCODED)
            moved = " OR ".join(
                f"{target}.{name} {self.distinct} b.{name}" for name in LOCATION_FIELDS
            )
            different.append(f"({target}.location_precision NOT IN ({geocoded}) AND ({moved}))")
        different.append(f"NOT {target}.is_active")
        return "(" + " OR ".join(different) + ")"

    def _assign(self, target: str, names: tuple[str, ...], located: bool = False) -> str:
        """SET clause: the batch's values and fresh; location and e-mail visibility by rule."""
        parts = [f"{name} = b.{name}" for name in names]
        if located:
            geocoded = ", ".join(f"'{value}'" for value in GEOCODED)
            parts += [
                f"{name} = CASE WHEN {target}.location_precision IN ({geocoded}) "
                f"THEN {target}.{name} ELSE b.{name} END"
                for name in LOCATION_FIELDS
            ]
            parts.append(
                f"email_public = CASE WHEN {target}.email <> b.email THEN FALSE "
                f"ELSE {target}.email_public END"
            )
        return ", ".join(parts) + ", " + self._fresh_assign()

    def _fresh_assign(self) -> str:
        return "is_active = TRUE, source = %s, checked_on = %s, checked_by_id = NULL"

    def _stale(self, target: str) -> str:
        return (
            f"NOT ({target}.source = %s AND {target}.checked_on = %s "
            f"AND {target}.checked_by_id IS NULL AND {target}.is_active)"
        )

    # Professionals -----------------------------------------------------------------------------

    def _professionals(self, cursor, counts: dict) -> None:
        P = self.P
        # Seen in an earlier batch without savoir-faire, which this batch brings.
        cursor.execute(
            f"UPDATE {P} SET savoir_faire_code = b.savoir_faire_code, "  # noqa: S608
            "savoir_faire = b.savoir_faire FROM rpps_batch_professional b, "
            f"rpps_run_professional r WHERE r.rpps = b.rpps AND {P}.id = r.id "
            "AND r.savoir_faire_missing AND b.has_savoir_faire"
        )
        cursor.execute(
            "UPDATE rpps_run_professional SET savoir_faire_missing = FALSE "
            "WHERE savoir_faire_missing AND rpps IN "
            "(SELECT rpps FROM rpps_batch_professional WHERE has_savoir_faire)"
        )
        # The first row of a professional in the run wins: the later ones are not written.
        cursor.execute(
            "DELETE FROM rpps_batch_professional WHERE EXISTS "
            "(SELECT 1 FROM rpps_run_professional r WHERE r.rpps = rpps_batch_professional.rpps)"
        )
        if self.first_load:  # no stored row but the run's: the batch's are all new
            self._insert_professionals(cursor, counts)
            return
        # The stored row; without a savoir-faire in the batch, the stored one is kept. (Each
        # looked up by a subquery: see _plan.)
        cursor.execute(
            f"UPDATE rpps_batch_professional SET target = (SELECT id FROM {P} p "  # noqa: S608
            "WHERE p.rpps = rpps_batch_professional.rpps)"
        )
        cursor.execute(
            "UPDATE rpps_batch_professional SET "  # noqa: S608
            + ", ".join(
                f"{name} = (SELECT {name} FROM {P} p WHERE p.id = rpps_batch_professional.target)"  # noqa: S608
                for name in PROFESSIONAL_FIELDS[SAVOIR_FAIRE]
            )
            + " WHERE target IS NOT NULL AND NOT has_savoir_faire"
        )
        existing = self._scalar(
            cursor, "SELECT count(*) FROM rpps_batch_professional WHERE target IS NOT NULL"
        )
        assign = ", ".join(f"{name} = b.{name}" for name in PROFESSIONAL_FIELDS)
        updated = self._run(
            cursor,
            f"UPDATE {P} SET {assign}, {self._fresh_assign()} FROM rpps_batch_professional b "  # noqa: S608
            f"WHERE {P}.id = b.target AND {self._changes(P, PROFESSIONAL_FIELDS)}",
            "rpps",
            "today",
        )
        self._run(
            cursor,
            f"UPDATE {P} SET {self._fresh_assign()} FROM rpps_batch_professional b "  # noqa: S608
            f"WHERE {P}.id = b.target AND {self._stale(P)}",
            "rpps",
            "today",
            "rpps",
            "today",
        )
        counts[("professional", "updated")] = updated
        counts[("professional", "unchanged")] = existing - updated
        self._insert_professionals(cursor, counts)

    def _insert_professionals(self, cursor, counts: dict) -> None:
        """The batch's professionals without a stored row, then the run's record of all."""
        P = self.P
        fields = ", ".join(PROFESSIONAL_FIELDS)
        others, marks, defaults = _defaults(
            Professional, ("rpps", *PROFESSIONAL_FIELDS, "is_active", "source", "checked_on")
        )
        created = self._run(
            cursor,
            f"INSERT INTO {P} (rpps, {fields}, is_active, source, checked_on{others}) "  # noqa: S608
            f"SELECT b.rpps, {', '.join(f'b.{name}' for name in PROFESSIONAL_FIELDS)}, TRUE, "
            f"%s, %s{marks} FROM rpps_batch_professional b WHERE b.target IS NULL",
            "rpps",
            "today",
            extra=defaults,
        )
        cursor.execute(
            "INSERT INTO rpps_run_professional (rpps, id, savoir_faire_missing) "  # noqa: S608
            "SELECT b.rpps, COALESCE(b.target, p.id), NOT b.has_savoir_faire "
            f"FROM rpps_batch_professional b LEFT JOIN {P} p "
            "ON b.target IS NULL AND p.rpps = b.rpps"
        )
        counts[("professional", "created")] = created

    # Structures --------------------------------------------------------------------------------

    def _structures(self, cursor, counts: dict) -> None:
        S = self.S
        cursor.execute(
            "DELETE FROM rpps_batch_structure WHERE EXISTS (SELECT 1 FROM rpps_run_structure r "
            "WHERE r.structure_id = rpps_batch_structure.structure_id)"
        )
        cursor.execute(
            f"UPDATE rpps_batch_structure SET target = (SELECT id FROM {S} s "  # noqa: S608
            "WHERE s.rpps_structure_id = rpps_batch_structure.structure_id)"
        )
        cursor.execute(
            f"UPDATE rpps_batch_structure SET target_source = (SELECT source FROM {S} s "  # noqa: S608
            "WHERE s.id = rpps_batch_structure.target) WHERE target IS NOT NULL"
        )
        # Known by their identifier: the RPPS import's own follow the rows, FINESS ones are
        # linked and never rewritten.
        cursor.execute(
            "SELECT COALESCE(SUM(CASE WHEN target_source = %s THEN 0 ELSE 1 END), 0), "
            "COALESCE(SUM(CASE WHEN target_source = %s THEN 1 ELSE 0 END), 0) "
            "FROM rpps_batch_structure WHERE target IS NOT NULL",
            [RPPS_SOURCE, RPPS_SOURCE],
        )
        linked, own = cursor.fetchone()
        fields = STRUCTURE_FIELDS
        updated = self._run(
            cursor,
            f"UPDATE {S} SET {self._assign(S, fields, located=True)} "  # noqa: S608
            f"FROM rpps_batch_structure b WHERE {S}.id = b.target AND b.target_source = %s "
            f"AND {self._changes(S, fields, located=True)}",
            "rpps",
            "today",
            "rpps",
        )
        self._run(
            cursor,
            f"UPDATE {S} SET {self._fresh_assign()} FROM rpps_batch_structure b "  # noqa: S608
            f"WHERE {S}.id = b.target AND b.target_source = %s AND {self._stale(S)}",
            "rpps",
            "today",
            "rpps",
            "rpps",
            "today",
        )
        # Unknown identifiers: a structure of the FINESS import with the same number is linked
        # (and records the first identifier met, if it has none yet).
        cursor.execute(
            f"UPDATE rpps_batch_structure SET target = (SELECT id FROM {S} s "  # noqa: S608
            "WHERE s.finess_et = rpps_batch_structure.finess_et) "
            "WHERE target IS NULL AND finess_et IS NOT NULL"
        )
        linked += self._run(
            cursor,
            "UPDATE rpps_batch_structure SET by_finess = TRUE, claimed = EXISTS (SELECT 1 "  # noqa: S608
            f"FROM {S} s WHERE s.id = rpps_batch_structure.target "
            "AND s.rpps_structure_id IS NOT NULL) "
            "WHERE target IS NOT NULL AND target_source IS NULL",
        )
        cursor.execute(
            f"UPDATE {S} SET rpps_structure_id = c.structure_id FROM "  # noqa: S608
            "(SELECT target, structure_id, ROW_NUMBER() OVER (PARTITION BY target ORDER BY line)"
            " AS n FROM rpps_batch_structure WHERE by_finess AND NOT claimed) c "
            f"WHERE {S}.id = c.target AND c.n = 1"
        )
        # New ones; identifiers sharing a new FINESS number make one structure, the first's.
        given = (
            "rpps_structure_id",
            "finess_et",
            *STRUCTURE_FIELDS,
            *LOCATION_FIELDS,
            "phone_public",
            "email_public",
            "is_active",
            "source",
            "checked_on",
        )
        others, marks, defaults = _defaults(Structure, given)
        columns = ", ".join(given)
        values = ", ".join(f"f.{name}" for name in ("finess_et", *STRUCTURE_FIELDS))
        created = self._run(
            cursor,
            f"INSERT INTO {S} ({columns}{others}) SELECT f.structure_id, {values}, "  # noqa: S608
            f"{', '.join(f'f.{name}' for name in LOCATION_FIELDS)}, TRUE, FALSE, TRUE, %s, %s"
            f"{marks} FROM (SELECT t.*, ROW_NUMBER() OVER "
            "(PARTITION BY t.finess_et ORDER BY t.line) AS n FROM rpps_batch_structure t "
            "WHERE t.target IS NULL) f WHERE f.finess_et IS NULL OR f.n = 1",
            "rpps",
            "today",
            extra=defaults,
        )
        cursor.execute(
            f"UPDATE rpps_batch_structure SET target = COALESCE((SELECT id FROM {S} s "  # noqa: S608
            "WHERE s.rpps_structure_id = rpps_batch_structure.structure_id), (SELECT id "
            f"FROM {S} s WHERE s.finess_et = rpps_batch_structure.finess_et)) "
            "WHERE target IS NULL"
        )
        cursor.execute(
            "INSERT INTO rpps_run_structure (structure_id, id) "
            "SELECT structure_id, target FROM rpps_batch_structure"
        )
        counts[("structure", "created")] = created
        counts[("structure", "updated")] = updated
        counts[("structure", "unchanged")] = own - updated
        counts[("structure", "linked")] = linked

    # Practice situations -----------------------------------------------------------------------

    def _situations(self, cursor, counts: dict, repeated: int) -> None:
        X = self.X
        if self.first_load:
            self._load_situations(cursor, counts, repeated)
            return
        cursor.execute(
            "UPDATE rpps_batch_situation SET professional_id = (SELECT id FROM "  # noqa: S608
            "rpps_run_professional r WHERE r.rpps = rpps_batch_situation.rpps), structure_id = "
            "(SELECT id FROM rpps_run_structure r "
            "WHERE r.structure_id = rpps_batch_situation.structure_key), "
            f"target = (SELECT id FROM {X} x WHERE x.source_key = rpps_batch_situation.source_key)"
        )
        # A key an earlier batch of this run had: merged into it.
        again = self._run(
            cursor,
            "DELETE FROM rpps_batch_situation WHERE target IN (SELECT id FROM rpps_run_situation)",
        )
        existing = self._scalar(
            cursor, "SELECT count(*) FROM rpps_batch_situation WHERE target IS NOT NULL"
        )
        fields = SITUATION_FIELDS
        updated = self._run(
            cursor,
            f"UPDATE {X} SET {self._assign(X, fields, located=True)} "  # noqa: S608
            f"FROM rpps_batch_situation b WHERE {X}.id = b.target "
            f"AND {self._changes(X, fields, located=True)}",
            "rpps",
            "today",
        )
        self._run(
            cursor,
            f"UPDATE {X} SET {self._fresh_assign()} FROM rpps_batch_situation b "  # noqa: S608
            f"WHERE {X}.id = b.target AND {self._stale(X)}",
            "rpps",
            "today",
            "rpps",
            "today",
        )
        created = self._insert_situations(cursor, "WHERE b.target IS NULL")
        cursor.execute(
            "INSERT INTO rpps_run_situation (id) SELECT COALESCE(b.target, x.id) "  # noqa: S608
            f"FROM rpps_batch_situation b LEFT JOIN {X} x "
            "ON b.target IS NULL AND x.source_key = b.source_key"
        )
        counts[("situation", "created")] = created
        counts[("situation", "updated")] = updated
        counts[("situation", "unchanged")] = existing - updated
        counts[("duplicate", "")] = repeated + again

    def _load_situations(self, cursor, counts: dict, repeated: int) -> None:
        """A first load's situations: every stored one is the run's, so a key met in an
        earlier batch is a duplicate, and the others are new; their professional and
        structure are the run's own (their ids read as they are inserted). Each key is
        looked up by a subquery, which the planner keeps (see _plan): the statistics say
        the table it fills is empty."""
        again = self._run(
            cursor,
            "DELETE FROM rpps_batch_situation WHERE (SELECT x.id FROM "  # noqa: S608
            f"{self.X} x WHERE x.source_key = rpps_batch_situation.source_key) IS NOT NULL",
        )
        counts[("situation", "created")] = self._insert_situations(cursor, "")
        counts[("duplicate", "")] = repeated + again

    def _insert_situations(self, cursor, where: str) -> int:
        """Insert the batch's situations (``where``: which); a first load looks their
        professional and structure up as it inserts them."""
        given = (
            "source_key",
            *SITUATION_FIELDS,
            *LOCATION_FIELDS,
            "phone_public",
            "email_public",
            "is_active",
            "source",
            "checked_on",
        )
        others, marks, defaults = _defaults(PracticeSituation, given)
        values = [f"b.{name}" for name in given[:-5]]
        if self.first_load:
            values[1:3] = [
                "(SELECT id FROM rpps_run_professional r WHERE r.rpps = b.rpps)",
                "(SELECT id FROM rpps_run_structure r WHERE r.structure_id = b.structure_key)",
            ]
        return self._run(
            cursor,
            f"INSERT INTO {self.X} ({', '.join(given)}{others}) SELECT {', '.join(values)}, "  # noqa: S608
            f"TRUE, FALSE, TRUE, %s, %s{marks} FROM rpps_batch_situation b {where}",
            "rpps",
            "today",
            extra=defaults,
        )

    # The end of a run --------------------------------------------------------------------------

    def finish(self) -> None:
        """After the last batch of a complete run: savoir-faire left empty, then absentees.

        A first load has neither: every professional and situation is the run's own (a
        professional none of whose rows had a savoir-faire was created without one)."""
        if self.first_load:
            return
        with connection.cursor() as cursor:
            cursor.execute("CREATE INDEX rpps_run_professional_id ON rpps_run_professional (id)")
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
        unseen = situations.extra(  # noqa: S610
            where=[
                f"NOT EXISTS (SELECT 1 FROM rpps_run_situation r WHERE r.id = {self.X}.id)"  # noqa: S608
            ]
        )
        gone = [
            pk
            for pk, professional in unseen.values_list("pk", "professional_id")
            if professional not in listed
        ]
        if self._guard("situations d'exercice", gone, situations):
            _set_inactive(PracticeSituation, gone)
            self.report.deactivated += len(gone)

    def _clear_savoir_faire(self) -> None:
        """Professionals none of whose rows had a savoir-faire lose the stored one.

        Those rows were counted unchanged when nothing else changed: they move to updated.
        """
        with transaction.atomic(), connection.cursor() as cursor:
            cleared = self._run(
                cursor,
                f"UPDATE {self.P} SET savoir_faire_code = '', savoir_faire = '' "  # noqa: S608
                "WHERE id IN (SELECT id FROM rpps_run_professional WHERE savoir_faire_missing) "
                "AND (savoir_faire_code <> '' OR savoir_faire <> '')",
            )
        self.report.professionals["updated"] += cleared
        self.report.professionals["unchanged"] -= cleared

    def _deactivate_professionals(self, listed: set[int]) -> bool:
        active = Professional.objects.filter(is_active=True)
        unseen = active.extra(  # noqa: S610
            where=[
                f"NOT EXISTS (SELECT 1 FROM rpps_run_professional r WHERE r.id = {self.P}.id)"  # noqa: S608
            ]
        )
        gone = [pk for pk in unseen.values_list("pk", flat=True) if pk not in listed]
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


class Staged(NamedTuple):
    """A batch prepared for its tables (``RppsRun.prepare``)."""

    lines: tuple[int, int]  # its first and last line
    outside: int  # rows left out: outside the territory
    tables: dict[str, tuple]  # per batch table with rows: (columns, rows or COPY text)
    repeated: int  # rows repeating a situation key of the batch


def _temp_buffers(cursor) -> None:
    """PostgreSQL: this session's temporary buffers (``TEMP_BUFFERS``), unless temporary
    tables were already used by it (an earlier import on the same connection), after which
    the server refuses the change: the setting it has then stays."""
    try:
        with transaction.atomic():  # a savepoint if within a transaction
            cursor.execute(f"SET temp_buffers = '{TEMP_BUFFERS}'")
    except DatabaseError:
        pass


LOADED = (Professional, PracticeSituation, Structure)  # the tables a first load fills


def _drop_secondary(cursor) -> list[str]:
    """A first load: drop the secondary indexes (neither unique nor primary) of
    professionals and situations, and on PostgreSQL the situations' foreign key to
    professionals; returns the statements that create them again, from the database's own
    definitions of them (as ``pg_dump`` writes them; SQLite keeps each index's statement),
    indexes first. SQLite checks foreign keys row by row whatever is done: they stay."""
    if connection.vendor == "sqlite":
        tables = [model._meta.db_table for model in (Professional, PracticeSituation)]
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " AND tbl_name IN (%s, %s) ORDER BY name",
            tables,
        )
        indexes = cursor.fetchall()
        for name, _sql in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        return [sql for _name, sql in indexes]
    indexes, keys = [], []
    for model in (Professional, PracticeSituation):
        table = model._meta.db_table
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
            "AND NOT x.indisunique AND NOT x.indisprimary ORDER BY i.relname",
            [table],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            indexes.append(definition)
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid = %s::regclass AND confrelid = %s::regclass ORDER BY conname",
        [PracticeSituation._meta.db_table, Professional._meta.db_table],
    )
    situations = _table(PracticeSituation)
    for name, definition in cursor.fetchall():
        name = connection.ops.quote_name(name)
        cursor.execute(f"ALTER TABLE {situations} DROP CONSTRAINT {name}")
        keys.append(f"ALTER TABLE {situations} ADD CONSTRAINT {name} {definition}")
    return indexes + keys


def _set_inactive(model: type[models.Model], pks: list[int]) -> None:
    for chunk in batches(pks):
        with transaction.atomic():
            model.objects.filter(pk__in=chunk).update(is_active=False)
