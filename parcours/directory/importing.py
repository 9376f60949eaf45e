"""What every directory import shares: the report, the progress display, batches.

An import reads a file line by line, turns each line into a record or a rejection (line
number and reason, in French), and applies records in batches: each batch in one
transaction, so it applies fully or not at all. Upserts are keyed on national identifiers,
so a run interrupted between batches is completed, without duplicates, by running it again.
"""

import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, TypeVar

from django.db import connection, models

T = TypeVar("T")

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
        return (
            f"{self.source} : {self.read} lignes lues, {self.created} créées, "
            f"{self.updated} mises à jour, {self.unchanged} inchangées, "
            f"{self.deactivated} désactivées, {len(self.rejected)} rejetées "
            f"({self.rows_per_second:,.0f} lignes/s)".replace(",", " ")
        )

    def write(self, path: Path) -> None:
        """The report file: the summary, then one line per rejected row."""
        with path.open("w", encoding="utf-8") as out:
            out.write(self.summary() + "\n")
            for rejection in self.rejected:
                out.write(f"ligne {rejection.line} : {rejection.reason}\n")


class Progress:
    """A one-line progress display: rows done, rows/s and time left when the total is known."""

    def __init__(self, total: int | None = None, stream: IO[str] | None = None, every: float = 0.5):
        self.total = total
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


def count_lines(path: Path) -> int:
    """Lines in a file, fast (for the progress display's time left)."""
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


# Rows are written with one prepared statement run over the batch (``executemany``): the
# ORM's ``bulk_create`` and ``bulk_update`` compile every value through the ORM and, on
# SQLite (999 parameters per statement), cut a batch into hundreds of statements. Reads stay
# in the ORM; table and column names come from the model, values go as parameters.


def insert_rows(model: type[models.Model], rows: list[dict], key: str | None = None) -> dict:
    """``INSERT`` the rows (dicts of the same fields) with ``executemany``; their new pks by key.

    ``bulk_create`` compiles every value of every object through the ORM (≈ 8 µs each, and
    SQLite's 999-parameter limit cuts a batch into 200 statements): most of the import time.
    Fields left out get their model default, prepared once.
    """
    if not rows:
        return {}
    meta, quote = model._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in rows[0]]
    given = {field.column for field in fields}
    others = [f for f in meta.concrete_fields if not f.primary_key and f.column not in given]
    defaults = [field.get_db_prep_save(field.get_default(), connection) for field in others]
    dates = [i for i, field in enumerate(fields) if field.get_internal_type() == "DateField"]
    columns = ", ".join(quote(field.column) for field in (*fields, *others))
    marks = ", ".join(["%s"] * (len(fields) + len(others)))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    params = []
    for row in rows:
        values = list(row.values())
        for i in dates:
            values[i] = connection.ops.adapt_datefield_value(values[i])
        params.append(values + defaults)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    if key is None:
        return {}
    keys = [row[key] for row in rows]
    return dict(model.objects.filter(**{f"{key}__in": keys}).values_list(key, "pk"))


def update_rows(model: type[models.Model], fields: tuple[str, ...], rows: list[tuple]) -> None:
    """One ``UPDATE … WHERE id = %s`` per row, sent with ``executemany``.

    Each row holds the values of ``fields`` then the primary key. Linear in the number of
    rows, unlike ``bulk_update`` whose ``CASE WHEN`` grows with the batch; values are
    prepared by the model fields themselves, as the ORM would send them.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = [model._meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    # Names come from the model, values go as parameters.
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE id = %s"  # noqa: S608
    prepared = [
        [
            column.get_db_prep_save(value, connection)
            for column, value in zip(columns, row[:-1], strict=True)
        ]
        + [row[-1]]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepared)
