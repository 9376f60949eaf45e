"""A file that is not UTF-8 is refused as a whole: nothing is written."""

import pytest

from parcours.directory.models import PracticeSituation, Professional, Structure
from parcours.directory.rpps import rpps_import

from .rpps_samples import HEADER_52, activity, line

pytestmark = pytest.mark.django_db


def test_it_refuses_a_latin_1_file_and_writes_nothing(tmp_path):
    rows = [line(activity("10000000001", structure="C1")) for _ in range(3)]
    rows.append(line(activity("10000000002", first_name="Hélène")))
    path = tmp_path / "rpps.txt"
    path.write_bytes(("|".join(HEADER_52) + "|\n" + "\n".join(rows) + "\n").encode("latin-1"))

    report = rpps_import(path=path)

    assert [(r.line, r.reason) for r in report.rejected] == [
        (1, "encodage invalide (UTF-8 attendu)")  # "Libellé…" in the header
    ]
    assert "rien n'a été importé" in report.error
    assert Professional.objects.count() == 0
    assert PracticeSituation.objects.count() == 0
    assert Structure.objects.count() == 0


def test_it_names_the_line_of_the_first_invalid_byte(tmp_path):
    header = ("|".join(HEADER_52) + "|\n").encode("utf-8")
    good = (line(activity("10000000001")) + "\n").encode("utf-8")
    bad = (line(activity("10000000002", first_name="Hélène")) + "\n").encode("latin-1")
    path = tmp_path / "rpps.txt"
    path.write_bytes(header + good * 2 + bad + good)

    report = rpps_import(path=path)

    assert [r.line for r in report.rejected] == [4]
    assert Professional.objects.count() == 0
