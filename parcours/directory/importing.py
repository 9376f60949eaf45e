"""What every directory import shares: the report, the progress display, batches.

An import reads a file line by line, turns each line into a record or a rejection (line
number and reason, in French), and applies records in batches: each batch in one
transaction, so it applies fully or not at all. Upserts are keyed on national identifiers,
so a run interrupted between batches is completed, without duplicates, by running it again.
"""

import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, TypeVar

from django.db import connection, models

T = TypeVar("T")
U = TypeVar("U")

BATCH_SIZE = 5_000


@dataclass
class Rejection:
    line: int
    reason: str


@dataclass
class ImportReport:
    """Counts and rejected lines of one import run."""

    source: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def reject(self, line: int, reason: str) -> None:
        self.rejected.append(Rejection(line, reason))

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    @property
    def rows_per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        rate = f"{self.rows_per_second:,.0f}".replace(",", " ")  # French thousands separator
        return (
            f"{self.source} : {self.read} lignes lues, {self.created} créées, "
            f"{self.updated} mises à jour, {self.unchanged} inchangées, "
            f"{self.deactivated} désactivées, {len(self.rejected)} rejetées ({rate} lignes/s)"
        )

    def write(self, path: Path) -> None:
        """The report file: the summary, then one line per rejected row."""
        with path.open("w", encoding="utf-8") as out:
            out.write(self.summary() + "\n")
            for rejection in self.rejected:
                out.write(f"ligne {rejection.line} : {rejection.reason}\n")


class Progress:
    """A one-line progress display: rows done, rows/s and time left when the total is known."""

    stored = False  # written in the database (a web job's), which SQLite's one writer limits

    def __init__(self, total: int | None = None, stream: IO[str] | None = None, every: float = 0.5):
        self.total = total
        # Set by an import run as one long transaction (the RPPS first load): a progress
        # written in the database must then go through a connection of its own to be seen.
        self.in_transaction = False
        self.stream = stream if stream is not None else sys.stderr
        self.every = every
        self.started = time.monotonic()
        self.last = 0.0

    def update(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return
        self.last = now
        rate = done / (now - self.started) if now > self.started else 0.0
        line = f"{done:,} lignes · {rate:,.0f} lignes/s".replace(",", " ")
        if self.total and rate > 0:
            left = max(self.total - done, 0) / rate
            percent = min(100, 100 * done // self.total)
            line = f"{percent:3d} % · {line} · reste {int(left // 60)} min {int(left % 60):02d} s"
        self.stream.write("\r" + line)
        self.stream.flush()

    def close(self, done: int) -> None:
        self.update(done, force=True)
        self.stream.write("\n")


def batches(items: Iterable[T], size: int = BATCH_SIZE) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


READ_AHEAD_SWITCH = 0.0001  # seconds (measured: 0.5 ms, 47.1 s for 1 M rows; 0.1 ms, 42.5 s)


@contextmanager
def read_ahead(
    items: Iterator[T], prepare: Callable[[T], U], *, threaded: bool = True
) -> Iterator[Iterator[U]]:
    """``prepare(item)`` for each item, the next one read and prepared in a thread while the
    caller works on the last one (``threaded``; otherwise in turn).

    An import's reading (decoding, splitting, checking and arranging a batch's lines, all
    Python) and its writing (mostly waiting for the database, which lets go of the
    interpreter) then overlap, on two cores. ``items`` and ``prepare`` must not touch the
    database: Django's connections are the thread's own. An exception raised in the thread
    comes out of ``next``; leaving the block early waits for the item being read, at most.

    Meanwhile the interpreter's switch interval is shortened (``READ_AHEAD_SWITCH``): at
    its 5 ms, each answer of the database would wait for the reading thread to let go of
    the interpreter, the server idle meanwhile (seconds over a national import).
    """
    if not threaded:
        yield (prepare(item) for item in items)
        return
    done = object()

    def step():
        for item in items:  # the next item, or ``done``
            return prepare(item)
        return done

    def ready() -> Iterator[U]:
        following = reader.submit(step)
        while (item := following.result()) is not done:
            following = reader.submit(step)
            yield item

    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, READ_AHEAD_SWITCH))
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-reader") as reader:
            yield ready()
    finally:
        sys.setswitchinterval(interval)


def count_lines(path: Path) -> int:
    """Lines in a file, fast (for the progress display's time left)."""
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


# Rows are written with one statement per batch where the engine allows it: the ORM's
# ``bulk_create`` and ``bulk_update`` compile every value through the ORM and, on SQLite
# (999 parameters per statement), cut a batch into hundreds of statements; on PostgreSQL,
# Django's client-side binding turns ``executemany`` into one statement per row. So:
# SQLite: one prepared statement run over the batch (``executemany``, a loop in C);
# PostgreSQL: ``COPY`` for inserts, one ``UPDATE … FROM unnest(arrays)`` for updates, and
# ``= ANY(array)`` for lookups by key. Table and column names come from the model, values
# always go as parameters.


IMPORT_CACHE_KIB = 256 * 1024
IMPORT_CHECKPOINT_PAGES = 64 * 1024  # 256 MB of write-ahead log between checkpoints


@contextmanager
def import_session() -> Iterator[None]:
    """Around a whole import, on SQLite: a bigger page cache, and fewer checkpoints.

    Its default page cache (2 MB) is far smaller than the unique indexes an import writes
    into at random places (the situations' keys are hashes): past a few hundred thousand
    rows nearly every insert would read its index pages back from the file. And in WAL mode
    a commit past 1,000 pages of log copies them back into the database and syncs it (about
    a third of the import's time): with a longer log, pages written by several batches are
    copied once, and the syncs are fewer. The last commit's checkpoint, or the next one's,
    brings the database up to date; durability is unchanged (``synchronous`` is not).
    Temporary tables (the RPPS import's batches) are kept in memory rather than in a file.
    PostgreSQL's cache and checkpoints are the server's."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache = cursor.fetchone()[0]
        cursor.execute("PRAGMA wal_autocheckpoint")
        checkpoint = cursor.fetchone()[0]
        cursor.execute("PRAGMA temp_store")
        temp_store = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-IMPORT_CACHE_KIB}")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {IMPORT_CHECKPOINT_PAGES}")
        if not connection.in_atomic_block:  # SQLite refuses it within a transaction
            cursor.execute("PRAGMA temp_store = MEMORY")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(cache)}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint)}")
            if not connection.in_atomic_block:
                cursor.execute(f"PRAGMA temp_store = {int(temp_store)}")


def fast_commit() -> None:
    """In an import's transaction: PostgreSQL may acknowledge its commit before the WAL is
    flushed to disk (``synchronous_commit`` off, for this transaction only).

    A crash can then lose the last batches committed (never corrupt or half-apply them):
    running the import again completes it, as after any interruption. SQLite in WAL mode
    with ``synchronous=NORMAL`` (settings) already behaves so.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def keyed(queryset: models.QuerySet, name: str, keys: Iterable) -> models.QuerySet:
    """``queryset.filter(name__in=keys)`` with the keys sent as ONE parameter.

    ``__in`` compiles a parameter per key (≈ 2 µs each, thousands per batch); here the list
    goes as a PostgreSQL array or a JSON array read by SQLite's ``json_each``, and the
    column's index is still used. Values must be plain strings or integers.
    """
    keys = list(keys)
    if not keys:
        return queryset.none()
    model = queryset.model
    column = model._meta.get_field(name).column
    quote = connection.ops.quote_name
    target = f"{quote(model._meta.db_table)}.{quote(column)}"  # names from the model
    if connection.vendor == "postgresql":
        condition, value = f"{target} = ANY(%s)", keys
    else:
        condition = f"{target} IN (SELECT value FROM json_each(%s))"  # noqa: S608
        value = json.dumps(keys)
    return queryset.extra(where=[condition], params=[value])  # noqa: S610


def column_defaults(model: type[models.Model], given: Iterable[str]) -> tuple[list[str], list]:
    """The columns of ``model`` not in ``given`` (column names) and their model defaults,
    prepared for the database: what an INSERT naming only ``given`` must add."""
    given = set(given)
    others = [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.column not in given
    ]
    defaults = [field.get_db_prep_save(field.get_default(), connection) for field in others]
    return [field.column for field in others], defaults


def copy_rows(cursor, table: str, columns: list[str], rows: Iterable[Iterable] | bytes) -> None:
    """Write rows (value sequences in ``columns`` order) into ``table`` with one statement:
    ``COPY`` on PostgreSQL, one prepared ``INSERT`` run over the rows on SQLite. On
    PostgreSQL, ``rows`` may be their ``COPY`` text already (``copy_text``)."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    if connection.vendor == "postgresql":
        # psycopg's own cursor: its errors become Django's (DatabaseError…) here.
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            if isinstance(rows, bytes):
                copy.write(rows)
            else:
                for values in rows:
                    copy.write_row(values)
    else:
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608


# PostgreSQL's COPY text format: a row per line, its values separated by tabs, NULL as \N,
# and backslash, tab, newline and carriage return escaped within values.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NUL = "\x00"  # stands for NULL while a line is checked: no text value may hold it


def copy_text(rows: Iterable[Sequence]) -> bytes:
    """Rows of text, numbers, booleans and None as ``COPY … FROM STDIN`` text (UTF-8),
    without a connection (so in an import's reading thread: see ``read_ahead``).

    Most lines need no escape: each is joined once and checked (its tabs, NUL marks,
    backslashes and line breaks counted), and only a line that needs them is made again
    value by value."""
    lines = []
    for row in rows:
        cells = [
            NUL if value is None else value if value.__class__ is str else _copy_value(value)
            for value in row
        ]
        line = "\t".join(cells)
        nulls = row.count(None)
        if (
            line.count("\t") != len(cells) - 1
            or line.count(NUL) != nulls
            or "\\" in line
            or "\n" in line
            or "\r" in line
        ):
            line = "\t".join([_copy_value(value) for value in row])
        elif nulls:
            line = line.replace(NUL, "\\N")
        lines.append(line)
    lines.append("")
    return "\n".join(lines).encode()


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, str):
        return value.translate(COPY_ESCAPES)  # a NUL stays, for the server to refuse
    return str(value)  # integers, floats


def insert_rows(
    model: type[models.Model], rows: list[dict], key: str | None = None, *, table: str = ""
) -> dict:
    """``INSERT`` the rows (dicts of the same fields); their new pks by ``key`` if given.

    Fields left out get their model default, prepared once. ``table``: write into that
    table (of the model's columns) instead of the model's.
    """
    if not rows:
        return {}
    meta, ops = model._meta, connection.ops
    fields = [meta.get_field(name) for name in rows[0]]
    given = [field.column for field in fields]
    others, defaults = column_defaults(model, given)
    dates = [i for i, field in enumerate(fields) if field.get_internal_type() == "DateField"]
    documents = [  # JSON values are prepared by their field (the engine's JSON type)
        (i, f) for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"
    ]
    adapt_date = ops.adapt_datefield_value
    params = []
    for row in rows:
        values = list(row.values())
        for i in dates:
            values[i] = adapt_date(values[i])
        for i, document in documents:
            values[i] = document.get_db_prep_save(values[i], connection)
        values += defaults
        params.append(values)
    with connection.cursor() as cursor:
        copy_rows(
            cursor,
            ops.quote_name(table or meta.db_table),
            [*given, *others],
            params,
        )
    if key is None:
        return {}
    keys = [row[key] for row in rows]
    return dict(keyed(model.objects.all(), key, keys).values_list(key, "pk"))


def update_rows(model: type[models.Model], fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Set ``fields`` of each row: rows hold the values of ``fields`` then the primary key.

    SQLite: one ``UPDATE … WHERE id = ?`` run over the rows (``executemany``). PostgreSQL:
    one ``UPDATE … FROM unnest(…)`` with a typed array per column. Linear in the number of
    rows, unlike ``bulk_update`` whose ``CASE WHEN`` grows with the batch; values are
    prepared by the model fields themselves, as the ORM would send them.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = [model._meta.get_field(name) for name in fields]
    table = quote(model._meta.db_table)
    prepared = [
        [
            column.get_db_prep_save(value, connection)
            for column, value in zip(columns, row[:-1], strict=True)
        ]
        + [row[-1]]
        for row in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{column.db_type(connection)}[]" for column in columns)
            names = ", ".join(f"c{i}" for i in range(len(columns)))
            assignments = ", ".join(
                f"{quote(column.column)} = v.c{i}" for i, column in enumerate(columns)
            )
            sql = (
                f"UPDATE {table} SET {assignments} FROM unnest({arrays}, %s::bigint[])"  # noqa: S608
                f" AS v({names}, pk) WHERE {table}.id = v.pk"
            )
            cursor.execute(sql, [list(values) for values in zip(*prepared, strict=True)])
        else:
            assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
            sql = f"UPDATE {table} SET {assignments} WHERE id = %s"  # noqa: S608
            cursor.executemany(sql, prepared)
