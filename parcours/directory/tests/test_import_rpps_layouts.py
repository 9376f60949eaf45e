"""Both official layouts, read by column name, with or without the trailing "|"."""

import random

import pytest

from parcours.directory.models import PracticeSituation, Professional
from parcours.directory.rpps import RppsFormatError, parse_rpps, rpps_import

from .rpps_samples import HEADER_52, HEADER_56, activity, line, shared_sample, write_rpps

pytestmark = pytest.mark.django_db


def test_it_imports_the_56_column_layout(tmp_path):
    rows = [activity("10000000001", role="FON-01", genre="GENR01", commune="69259")]
    path = write_rpps(tmp_path / "rpps.txt", rows, header=HEADER_56)

    report = rpps_import(path=path)

    assert (report.read, report.created, report.rejected) == (1, 1, [])
    assert Professional.objects.get().last_name == "MARTIN"


@pytest.mark.parametrize("trailing", ["|", ""])
@pytest.mark.parametrize("header", [HEADER_52, HEADER_56], ids=["52", "56"])
def test_it_accepts_lines_with_or_without_the_trailing_separator(tmp_path, header, trailing):
    path = write_rpps(tmp_path / "rpps.txt", [activity()], header=header, trailing=trailing)

    report = rpps_import(path=path)

    assert (report.created, report.rejected) == (1, [])


def test_it_reads_columns_by_name_not_position():
    header = HEADER_56.copy()
    random.Random(4).shuffle(header)
    lines = ["|".join(header), line(activity("10000000001", last_name="DURAND"), header, "")]

    (row,) = parse_rpps(lines)

    assert (row.rpps, row.professional[2]) == ("10000000001", "DURAND")


def test_it_accepts_windows_line_ends_and_a_byte_order_mark(tmp_path):
    text = "\ufeff" + "|".join(HEADER_52) + "|\r\n" + line(activity()) + "\r\n"
    path = tmp_path / "rpps.txt"
    path.write_bytes(text.encode("utf-8"))

    report = rpps_import(path=path)

    assert (report.created, report.rejected) == (1, [])


def test_it_refuses_a_header_without_a_required_column_and_names_it(tmp_path):
    header = [name for name in HEADER_52 if name != "Identifiant PP"]
    path = write_rpps(tmp_path / "rpps.txt", [activity()], header=header)

    report = rpps_import(path=path)

    assert "« Identifiant PP »" in report.error
    assert Professional.objects.count() == 0
    with pytest.raises(RppsFormatError, match="Identifiant PP"):
        list(parse_rpps(["|".join(header)]))


def test_it_imports_the_real_sample_of_the_annuaire_sante():
    path = shared_sample()

    report = rpps_import(path=path)

    # 22 rows: 21 professionals still identified by their ADELI number, one by the RPPS.
    assert report.read == 22
    assert (report.created, len(report.rejected)) == (1, 21)
    assert all("ADELI" in rejection.reason for rejection in report.rejected)
    assert report.rejected[0].line == 2
    professional = Professional.objects.get()
    assert (professional.rpps, professional.last_name, professional.profession) == (
        "10106476764",
        "BENHOUCHAME",
        "Médecin",
    )
    assert professional.savoir_faire == "Gynécologie-obstétrique"
    assert PracticeSituation.objects.get().mode == "S"
