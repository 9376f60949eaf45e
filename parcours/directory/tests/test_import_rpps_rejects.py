"""Malformed rows are rejected with their line and reason; the others are imported."""

import pytest

from parcours.directory.models import PracticeSituation, Professional
from parcours.directory.rpps import rpps_import

from .rpps_samples import HEADER_52, activity, line, write_rpps

pytestmark = pytest.mark.django_db


def test_it_rejects_malformed_rows_and_imports_the_rest(tmp_path):
    good = line(activity("10000000001"))
    rows = [
        activity("10000000001"),  # line 2
        good[: len(good) // 2],  # line 3: truncated
        good + "extra|",  # line 4: one column too many
        activity("1234"),  # line 5: not 11 digits
        activity("010001949", type="0"),  # line 6: ADELI
        activity("10000000002", last_name=""),  # line 7: no name
        activity("10000000003", profession_code=""),  # line 8: no profession
        activity("10000000004"),  # line 9
    ]
    path = write_rpps(tmp_path / "rpps.txt", rows)

    report = rpps_import(path=path)

    reasons = {rejection.line: rejection.reason for rejection in report.rejected}
    assert reasons == {
        3: f"ligne tronquée : {good[: len(good) // 2].count('|') + 1} colonnes au lieu de 52",
        4: "nombre de colonnes incorrect : 53 au lieu de 52",
        5: "identifiant RPPS invalide « 1234 » (11 chiffres attendus)",
        6: "identifiant ADELI « 010001949 » : seuls les professionnels identifiés au RPPS "
        "(11 chiffres) sont importés",
        7: "valeur manquante : « Nom d'exercice »",
        8: "valeur manquante : « Code profession »",
    }
    assert (report.read, report.created) == (8, 2)
    assert set(Professional.objects.values_list("rpps", flat=True)) == {
        "10000000001",
        "10000000004",
    }
    written = report_file(tmp_path, report)
    assert "ligne 3 : ligne tronquée" in written
    assert "6 lignes rejetées" in written


def test_it_rejects_a_truncated_last_line_without_newline(tmp_path):
    path = write_rpps(tmp_path / "rpps.txt", [activity("10000000001")])
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line(activity("10000000002"))[:40])

    report = rpps_import(path=path)

    assert [(rejection.line, rejection.reason[:14]) for rejection in report.rejected] == [
        (3, "ligne tronquée")
    ]
    assert PracticeSituation.objects.count() == 1


def test_it_ignores_blank_lines(tmp_path):
    path = tmp_path / "rpps.txt"
    path.write_text("|".join(HEADER_52) + "|\n" + line(activity()) + "\n\n", encoding="utf-8")

    report = rpps_import(path=path)

    assert (report.read, report.created, report.rejected) == (1, 1, [])


def report_file(tmp_path, report) -> str:
    report.write(tmp_path / "report.txt")
    return (tmp_path / "report.txt").read_text(encoding="utf-8")
