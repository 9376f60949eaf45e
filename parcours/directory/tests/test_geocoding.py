import gzip

import pytest
from django.core.management import call_command

from parcours.directory.geocoding import ban_import, geocode, normalise_street, parse_address
from parcours.directory.models import BanAddress
from parcours.territory.models import Commune

pytestmark = pytest.mark.django_db

HEADER = (
    "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;"
    "code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;"
    "libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;cad_parcelles"
)


def ban_line(ban_id, numero, rep, voie, insee, lon, lat):
    return (
        f"{ban_id};;{numero};{rep};{voie};69200;{insee};Vénissieux;;;0;0;{lon};{lat};"
        "entrée;;;VENISSIEUX;;;;1;"
    )


LINES = [
    ban_line("69259_0010_00005", 5, "", "Avenue Marcel Houël", "69259", 4.8868, 45.6975),
    ban_line("69259_0010_00005_bis", 5, "bis", "Avenue Marcel Houël", "69259", 4.8870, 45.6976),
    ban_line("69259_0010_00011", 11, "", "Avenue Marcel Houël", "69259", 4.8880, 45.6985),
]


@pytest.fixture
def venissieux():
    return Commune.objects.create(
        insee="69259",
        name="Vénissieux",
        departement="69",
        region="84",
        latitude=45.6978,
        longitude=4.8867,
    )


def write(tmp_path, lines, name="adresses-69.csv.gz"):
    path = tmp_path / name
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("\n".join([HEADER, *lines]) + "\n")
    return path


def test_it_normalises_streets_and_reads_numbers():
    assert normalise_street("av. Marcel Houël") == "AVENUE MARCEL HOUEL"
    assert parse_address("5 bis, av Marcel Houël") == parse_address("5B AVENUE MARCEL HOUEL")
    assert parse_address("Place de la mairie").number is None


def test_it_finds_an_address_then_a_street_then_the_commune(tmp_path, venissieux):
    ban_import(path=write(tmp_path, LINES))
    exact = geocode(address="5 bis avenue Marcel Houel", commune=venissieux)
    assert (exact.latitude, exact.precision) == (45.6976, "address")
    street = geocode(address="99 av. Marcel Houël", commune=venissieux)
    assert street.precision == "street" and 45.6975 < street.latitude < 45.6985
    centre = geocode(address="1 rue Inconnue", commune=venissieux)
    assert (centre.latitude, centre.precision) == (45.6978, "commune")
    assert geocode(address="1 rue Inconnue", commune=None).precision == "unknown"


def test_running_it_twice_changes_nothing(tmp_path, venissieux):
    path = write(tmp_path, LINES)
    first = ban_import(path=path)
    second = ban_import(path=path)
    assert (first.created, second.created, second.unchanged) == (3, 0, 3)
    assert BanAddress.objects.count() == 3


def test_a_new_file_replaces_the_departement(tmp_path, venissieux):
    ban_import(path=write(tmp_path, LINES))
    report = ban_import(path=write(tmp_path, LINES[:1]))
    assert report.deactivated == 2 and BanAddress.objects.count() == 1


def test_it_reports_bad_lines_and_keeps_the_good_ones(tmp_path, venissieux):
    lines = [
        *LINES,
        ban_line("x1", 1, "", "Rue A", "69259", "abc", 45.7),
        ban_line("x2", 1, "", "Rue A", "75056", 2.35, 48.85),
    ]
    report = ban_import(path=write(tmp_path, lines))
    assert [(r.line, r.reason[:20]) for r in report.rejected] == [
        (5, "coordonnées illisibl"),
        (6, "commune 75056 hors d"),
    ]
    assert BanAddress.objects.count() == 3


def test_a_file_that_is_not_utf8_changes_nothing(tmp_path, venissieux):
    ban_import(path=write(tmp_path, LINES))
    path = tmp_path / "adresses-69.csv"
    path.write_bytes(("\n".join([HEADER, *LINES]) + "\n").encode("latin-1"))
    report = ban_import(path=path)
    assert "encodage invalide" in report.rejected[0].reason
    assert BanAddress.objects.count() == 3


def test_the_command_prints_the_summary(tmp_path, venissieux, capsys):
    call_command("import_ban", str(write(tmp_path, LINES)))
    assert "3 créées" in capsys.readouterr().out
