"""Imports parse their file in a thread, ahead of the batches being written."""

import threading

import pytest

from parcours.directory.importing import ahead


def test_it_hands_the_items_over_in_their_order():
    assert list(ahead(iter(range(1_000)), depth=3)) == list(range(1_000))


def test_it_raises_an_error_of_the_parsing_where_it_happened():
    def items():
        yield 1
        yield 2
        raise ValueError("ligne 3 illisible")

    received = []
    with pytest.raises(ValueError, match="ligne 3"):
        for item in ahead(items()):
            received.append(item)
    assert received == [1, 2]


def test_leaving_early_stops_the_thread():
    produced = []

    def items():
        for number in range(10_000):
            produced.append(number)
            yield number

    parsed = ahead(items(), depth=2)
    assert next(parsed) == 0
    parsed.close()
    assert not [t for t in threading.enumerate() if t.name == "import-parser"]
    assert len(produced) < 10  # it stopped a few items ahead, not at the end
