"""``manage.py import_rpps``: summary, report file, exit status."""

import io

import pytest
from django.core.management import CommandError, call_command

from parcours.directory.models import Professional
from parcours.territory.models import Territory

from .rpps_samples import HEADER_52, activity, make_communes, write_rpps

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_rpps", *map(str, args), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_prints_the_summary_and_writes_the_report(tmp_path):
    path = write_rpps(tmp_path / "rpps.txt", [activity("10000000001"), activity("123")])

    output = run(path, "--report", tmp_path / "report.txt")

    assert "2 lignes lues ; situations d'exercice : 1 créées" in output
    report = (tmp_path / "report.txt").read_text(encoding="utf-8")
    assert "ligne 3 : identifiant RPPS invalide « 123 »" in report
    assert Professional.objects.count() == 1


def test_it_writes_the_report_under_var_by_default(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    path = write_rpps(tmp_path / "rpps.txt", [activity()])

    output = run(path)

    (report,) = (tmp_path / "var").glob("import-rpps-*.txt")
    assert f"Rapport : {report}" in output


def test_it_fails_when_the_header_lacks_a_required_column(tmp_path):
    header = [name for name in HEADER_52 if name != "Code commune (coord. structure)"]
    path = write_rpps(tmp_path / "rpps.txt", [activity()], header=header)

    with pytest.raises(CommandError, match="« Code commune \\(coord. structure\\) »"):
        run(path, "--report", tmp_path / "report.txt")
    assert Professional.objects.count() == 0


def test_it_imports_the_territory_of_an_organisation(tmp_path, org_a, no_scope):
    communes = make_communes()
    Territory.objects.create(organisation=org_a, name="Vénissieux").communes.add(communes["69259"])
    rows = [activity("10000000001", commune="69259"), activity("10000000002", commune="67482")]
    path = write_rpps(tmp_path / "rpps.txt", rows)

    output = run(path, "--territory", "cpts-venissieux", "--report", tmp_path / "r.txt")

    assert "1 lignes hors territoire" in output
    assert list(Professional.objects.values_list("rpps", flat=True)) == ["10000000001"]


def test_it_fails_for_an_unknown_organisation(tmp_path):
    path = write_rpps(tmp_path / "rpps.txt", [activity()])

    with pytest.raises(CommandError, match="Organisation inconnue"):
        run(path, "--territory", "nowhere")


def test_it_fails_for_an_organisation_without_territory(tmp_path, org_b):
    path = write_rpps(tmp_path / "rpps.txt", [activity()])

    with pytest.raises(CommandError, match="n'a pas de territoire"):
        run(path, "--territory", org_b.slug, "--report", tmp_path / "r.txt")
