"""Centre coordinates come from a CSV: the real sample's columns and plain ones."""

import pytest

from parcours.territory.models import Commune
from parcours.territory.services import communes_import

from .helpers import shared_centres, write_csv, write_source

pytestmark = pytest.mark.django_db


def test_it_imports_the_centres_of_the_real_sample():
    report = communes_import(centres=shared_centres(), skip_unknown=True)

    assert report.ok, report.summary()
    venissieux = Commune.objects.get(insee="69259")
    assert venissieux.latitude == pytest.approx(45.70, abs=0.02)
    assert venissieux.longitude == pytest.approx(4.88, abs=0.02)
    assert Commune.objects.get(insee="69388").has_centre  # an arrondissement
    assert Commune.objects.get(insee="2A004").has_centre  # Corsica
    located = Commune.objects.filter(kind=Commune.Kind.COMMUNE, latitude__isnull=False).count()
    assert located > 34_000
    # The sample (COG 2024) names a few communes merged since, and has rows without centre.
    skipped = [str(issue) for issue in report.skipped]
    assert "ligne 716 : commune inconnue « 02311 », ligne ignorée" in skipped
    assert any("pas de coordonnées" in reason for reason in skipped)


def test_it_refuses_the_real_sample_with_merged_communes_unless_told_to_skip_them():
    report = communes_import(centres=shared_centres())

    assert not report.ok
    assert {issue.reason for issue in report.errors} >= {"commune inconnue « 02311 »"}
    assert all("commune inconnue" in issue.reason for issue in report.errors)
    assert "--skip-unknown" in report.summary()
    assert Commune.objects.count() == 0


def test_it_accepts_plain_column_names_semicolons_and_decimal_commas(tmp_path):
    source = write_source(tmp_path)
    centres = write_csv(
        tmp_path, "Code_INSEE;Latitude;Longitude\n69259;45,6978;4,8867\n2a004;41,9256;8,7364\n"
    )

    report = communes_import(source=source, centres=centres)

    assert report.ok, report.summary()
    assert Commune.objects.get(insee="69259").latitude == pytest.approx(45.6978)
    assert Commune.objects.get(insee="2A004").longitude == pytest.approx(8.7364)


def test_it_reads_a_latin1_file(tmp_path):
    source = write_source(tmp_path)
    path = tmp_path / "centres.csv"
    path.write_bytes(
        "insee,commune,latitude,longitude\n69259,Vénissieux,45.6978,4.8867\n".encode("latin-1")
    )

    assert communes_import(source=source, centres=path).ok
    assert Commune.objects.get(insee="69259").has_centre


def test_it_keeps_known_centres_when_the_list_is_imported_again_without_them(tmp_path):
    source = write_source(tmp_path)
    centres = write_csv(tmp_path, "insee_com,lat,lng\n69259,45.6978,4.8867\n")
    assert communes_import(source=source, centres=centres).ok

    report = communes_import(source=source)

    assert (report.created, report.updated) == (0, 0)
    assert Commune.objects.get(insee="69259").latitude == pytest.approx(45.6978)
