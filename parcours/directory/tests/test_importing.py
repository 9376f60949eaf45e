"""The helpers every import shares: COPY text, reading ahead in a thread."""

import sys
import threading

import pytest
from django.db import connection

from parcours.directory.importing import READ_AHEAD_SWITCH, copy_rows, copy_text, read_ahead

ROWS = [
    ("plain", 1, 48.8566, True, None),
    ("tab\there", 2, -0.5, False, "x"),
    ("line\nbreak and \\ backslash", 3, 1e-05, None, "carriage\rreturn"),
    ("", 0, 0.0, True, "\\N"),  # an empty text and the text \N are not NULL
    (None, None, None, None, None),
    ("accentué « guillemets » ½", -7, 45.0, False, "N"),
]


def test_copy_text_escapes_what_the_copy_format_reserves():
    text = copy_text(ROWS).decode()

    assert text.split("\n") == [
        "plain\t1\t48.8566\tt\t\\N",
        "tab\\there\t2\t-0.5\tf\tx",
        "line\\nbreak and \\\\ backslash\t3\t1e-05\t\\N\tcarriage\\rreturn",
        "\t0\t0.0\tt\t\\\\N",
        "\\N\t\\N\t\\N\t\\N\t\\N",
        "accentué « guillemets » ½\t-7\t45.0\tf\tN",
        "",
    ]


@pytest.mark.django_db
def test_rows_written_with_copy_rows_read_back_the_same():
    """On PostgreSQL as COPY text made beforehand (copy_text); on SQLite as rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE copied (t text, i integer, f double precision, "
            "b boolean, u text)"
        )
        payload = copy_text(ROWS) if connection.vendor == "postgresql" else ROWS
        copy_rows(cursor, "copied", ["t", "i", "f", "b", "u"], payload)
        cursor.execute("SELECT t, i, f, b, u FROM copied")
        stored = cursor.fetchall()
        cursor.execute("DROP TABLE copied")

    assert set(map(_comparable, stored)) == set(map(_comparable, ROWS))


def _comparable(row):
    text, integer, number, boolean, other = row
    return text, integer, number, None if boolean is None else bool(boolean), other  # SQLite: 0/1


@pytest.mark.parametrize("threaded", [True, False])
def test_read_ahead_gives_every_item_prepared_in_order(threaded):
    with read_ahead(iter(range(10)), lambda n: n * n, threaded=threaded) as ready:
        assert list(ready) == [n * n for n in range(10)]


def test_read_ahead_prepares_in_another_thread_one_item_ahead():
    threads, read = set(), []

    def items():
        for n in range(100):
            read.append(n)
            yield n

    def prepare(n):
        threads.add(threading.current_thread().name)
        return n

    interval = sys.getswitchinterval()
    with read_ahead(items(), prepare) as ready:
        assert next(ready) == 0
        assert next(ready) == 1
        assert sys.getswitchinterval() == pytest.approx(READ_AHEAD_SWITCH)
    assert read == [0, 1, 2]  # the item after the last one taken, no further
    assert threading.current_thread().name not in threads
    assert sys.getswitchinterval() == interval


def test_an_error_while_reading_comes_out_of_the_loop():
    def items():
        yield 1
        raise ValueError("ligne 2 illisible")

    interval = sys.getswitchinterval()
    with pytest.raises(ValueError, match="ligne 2 illisible"), read_ahead(items(), str) as ready:
        assert next(ready) == "1"
        next(ready)
    assert sys.getswitchinterval() == interval
