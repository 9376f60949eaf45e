"""A centres file with a malformed row is refused whole: every bad row is reported, with
its line and reason, and nothing at all is written."""

import pytest
from django.core.management import CommandError, call_command

from parcours.territory.models import Commune
from parcours.territory.services import communes_import

from .helpers import write_csv, write_source

pytestmark = pytest.mark.django_db

HEADER = "insee_com,commune,lat,lng\n"


@pytest.fixture
def source(tmp_path):
    return write_source(tmp_path)


def reasons(report) -> list[str]:
    return [str(issue) for issue in report.errors]


def test_it_rejects_a_bad_insee_code_and_writes_nothing(tmp_path, source):
    centres = write_csv(tmp_path, HEADER + "69259,Vénissieux,45.70,4.88\n6925,Tronqué,45.7,4.8\n")

    report = communes_import(source=source, centres=centres)

    assert reasons(report) == ["ligne 3 : code INSEE invalide « 6925 »"]
    assert Commune.objects.count() == 0


def test_it_rejects_a_latitude_that_is_not_a_number(tmp_path, source):
    centres = write_csv(tmp_path, HEADER + "69259,Vénissieux,abc,4.88\n")

    report = communes_import(source=source, centres=centres)

    assert reasons(report) == ["ligne 2 : latitude invalide « abc »"]
    assert Commune.objects.count() == 0


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_it_rejects_latitudes_that_are_not_finite(tmp_path, source, value):
    centres = write_csv(tmp_path, HEADER + f"69259,Vénissieux,{value},4.88\n")

    assert reasons(communes_import(source=source, centres=centres)) == [
        f"ligne 2 : latitude invalide « {value} »"
    ]


def test_it_rejects_an_out_of_range_longitude(tmp_path, source):
    centres = write_csv(
        tmp_path, HEADER + "69259,Vénissieux,45.70,200\n69388,Lyon 8e,45.73,-180.5\n"
    )

    report = communes_import(source=source, centres=centres)

    assert reasons(report) == [
        "ligne 2 : longitude hors limites « 200 » (attendue entre -180 et 180)",
        "ligne 3 : longitude hors limites « -180.5 » (attendue entre -180 et 180)",
    ]
    assert Commune.objects.count() == 0


def test_it_rejects_a_file_without_a_longitude_column(tmp_path, source):
    centres = write_csv(tmp_path, "insee_com,commune,lat\n69259,Vénissieux,45.70\n")

    report = communes_import(source=source, centres=centres)

    assert reasons(report) == [
        "ligne 1 : colonne manquante pour la longitude (attendue : lng, lon, long, longitude)"
    ]
    assert Commune.objects.count() == 0


def test_it_rejects_a_row_with_only_one_coordinate(tmp_path, source):
    centres = write_csv(tmp_path, HEADER + "69259,Vénissieux,45.70,\n")

    assert reasons(communes_import(source=source, centres=centres)) == [
        "ligne 2 : longitude manquante"
    ]


def test_it_rejects_an_unknown_commune(tmp_path, source):
    centres = write_csv(
        tmp_path, HEADER + "69259,Vénissieux,45.70,4.88\n99999,Nulle part,45.0,4.0\n"
    )

    report = communes_import(source=source, centres=centres)

    assert reasons(report) == ["ligne 3 : commune inconnue « 99999 »"]
    assert Commune.objects.count() == 0


def test_it_rejects_two_rows_that_disagree_about_a_centre(tmp_path, source):
    centres = write_csv(
        tmp_path,
        HEADER
        + "69259,Vénissieux,45.70,4.88\n69259,Vénissieux,45.70,4.88\n69259,Vénissieux,45.1,4.1\n",
    )

    assert reasons(communes_import(source=source, centres=centres)) == [
        "ligne 4 : coordonnées différentes de celles de la ligne 2 pour la commune « 69259 »"
    ]


def test_it_reports_every_bad_row_and_leaves_existing_data_untouched(tmp_path, source):
    assert communes_import(source=source).ok
    before = list(Commune.objects.order_by("insee").values())
    centres = write_csv(
        tmp_path,
        HEADER + "69259,Vénissieux,45.70,4.88\n"  # valid, but must not be applied either
        "ABCDE,Lettres,45.0,4.0\n"
        "69388,Lyon 8e,quarante,4.87\n"
        "69123,Lyon,45.76,999\n"
        "75056,Paris,48.85,2.35\n",
    )

    report = communes_import(source=source, centres=centres)

    assert not report.ok
    assert [issue.line for issue in report.errors] == [3, 4, 5, 6]
    assert list(Commune.objects.order_by("insee").values()) == before


def test_the_command_exits_with_the_reasons_in_french(tmp_path, source):
    centres = write_csv(tmp_path, HEADER + "69259,Vénissieux,abc,4.88\n")

    with pytest.raises(CommandError) as refused:
        call_command("import_communes", "--source", str(source), "--centres", str(centres))

    message = str(refused.value)
    assert "ligne 2 : latitude invalide « abc »" in message
    assert "aucune donnée n'a été enregistrée" in message
    assert Commune.objects.count() == 0


def test_the_command_reports_a_missing_file(tmp_path, source):
    with pytest.raises(CommandError, match="fichier introuvable"):
        call_command(
            "import_communes", "--source", str(source), "--centres", str(tmp_path / "absent.csv")
        )


def test_it_rejects_malformed_records_of_the_official_list(tmp_path):
    source = write_source(
        tmp_path,
        [
            {
                "code": "69259",
                "nom": "Vénissieux",
                "type": "commune-actuelle",
                "departement": "69",
                "region": "84",
            },
            {
                "code": "692",
                "nom": "Court",
                "type": "commune-actuelle",
                "departement": "69",
                "region": "84",
            },
            {
                "code": "69001",
                "nom": "",
                "type": "commune-actuelle",
                "departement": "69",
                "region": "84",
            },
            {
                "code": "69002",
                "nom": "Bizarre",
                "type": "quartier",
                "departement": "69",
                "region": "84",
            },
            {
                "code": "69381",
                "nom": "Lyon 1er",
                "type": "arrondissement-municipal",
                "commune": "69123",
                "departement": "69",
                "region": "84",
            },
        ],
    )

    report = communes_import(source=source)

    assert reasons(report) == [
        "enregistrement 2 : code INSEE invalide « 692 »",
        "enregistrement 3 : nom manquant pour la commune 69001",
        "enregistrement 4 : type de commune inconnu « quartier »",
        "commune 69381 : commune de rattachement inconnue « 69123 »",
    ]
    assert Commune.objects.count() == 0
