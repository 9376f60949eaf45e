"""The pure helpers of the FINESS import: commune codes, projections, WGS84, addresses."""

import math

import pytest
from pyproj import CRS

from parcours.directory.finess import (
    OVERSEAS_CRS,
    detect_encoding,
    finess_address,
    finess_crs,
    finess_insee_code,
    finess_number_is_valid,
    location_precision,
    to_wgs84,
)


@pytest.mark.parametrize(
    ("departement", "commune", "insee"),
    [
        ("01", "451", "01451"),
        ("2A", "004", "2A004"),
        ("2B", "033", "2B033"),
        ("9A", "101", "97101"),  # Les Abymes
        ("9B", "209", "97209"),  # Fort-de-France
        ("9C", "302", "97302"),  # Cayenne
        ("9D", "411", "97411"),  # Saint-Denis (La Réunion)
        ("9E", "502", "97502"),  # Saint-Pierre
        ("9F", "611", "97611"),  # Mamoudzou
        ("9A", "123", "97701"),  # Saint-Barthélemy, former Guadeloupe code
        ("9A", "127", "97801"),  # Saint-Martin, former Guadeloupe code
    ],
)
def test_it_builds_the_insee_code(departement, commune, insee):
    assert finess_insee_code(departement, commune) == insee


@pytest.mark.parametrize(
    ("departement", "commune"),
    [("9A", "411"), ("XX", "001"), ("01", "45"), ("01", "ABC"), ("", ""), ("20", "004")],
)
def test_it_refuses_what_is_not_a_commune_code(departement, commune):
    assert finess_insee_code(departement, commune) is None


@pytest.mark.parametrize(
    ("source", "departement", "epsg"),
    [
        ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93", "9D", 2154),
        (
            "1,ATLASANTE,100,IGN,BD_ADRESSE,V3.0,EPSG:2154 RGF93 / Lambert-93 (Métropole)",
            "01",
            2154,
        ),
        (
            "1,ATLASANTE,100,IGN,BD_ADRESSE,V3.0,EPSG:5490 RGAF09/UTM Zone 20N (Antilles)",
            "9A",
            5490,
        ),
        ("", "01", 2154),
        ("", "2A", 2154),
        ("", "9A", 5490),
        ("", "9B", 5490),
        ("", "9C", 2972),
        ("", "9D", 2975),
        ("", "9F", 4471),
        ("", "977", 5490),
        ("", "ZZ", None),
    ],
)
def test_it_finds_the_projection(source, departement, epsg):
    assert finess_crs(source, departement) == epsg


def test_the_overseas_projections_are_the_legal_ones():
    names = {code: CRS.from_epsg(epsg).name for code, epsg in OVERSEAS_CRS.items()}
    assert names["971"] == names["972"] == "RGAF09 / UTM zone 20N"
    assert names["973"] == "RGFG95 / UTM zone 22N"
    assert names["974"] == "RGR92 / UTM zone 40S"
    assert names["975"] == "RGSPM06 / UTM zone 21N"
    assert names["976"] == "RGM04 / UTM zone 38S"
    assert CRS.from_epsg(2154).name == "RGF93 v1 / Lambert-93"


def test_it_converts_to_wgs84_in_bulk():
    # CH de Fleyriat (Viriat) and a point in Belley, Lambert-93 of the FINESS sample.
    points = to_wgs84(2154, [870215.7, 909011.9], [6571590.5, 6521295.1])
    assert points[0] == pytest.approx((46.2227, 5.2086), abs=1e-3)
    assert points[1] == pytest.approx((45.7592, 5.6894), abs=1e-3)


def test_it_drops_points_outside_france():
    assert to_wgs84(2154, [100.0, math.nan], [100.0, 6571590.5]) == [None, None]


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("010000024", True),
        ("010000025", False),  # Luhn key
        ("2A0000014", True),
        ("01000002", False),
        ("0100000244", False),
        ("A10000024", False),
        ("", False),
    ],
)
def test_it_checks_finess_numbers(number, valid):
    assert finess_number_is_valid(number) is valid


def test_it_writes_one_address_line():
    assert finess_address("900", "RTE", "DE PARIS", "", "") == "900 RTE DE PARIS"
    assert finess_address("12", "R", "DU LAC", "B", "BP 139") == "12 BIS R DU LAC, BP 139"
    assert finess_address("", "", "", "", "LIEU DIT LES PRES") == "LIEU DIT LES PRES"


def test_precision_is_the_address_unless_the_source_says_commune():
    assert location_precision("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93") == "address"
    assert location_precision("3,ATLASANTE,50,IGN,COMMUNE,V2.2,LAMBERT_93") == "commune"


def test_it_decides_the_encoding_for_the_whole_file(tmp_path):
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes("finess;etalab\nSAINT-ÉTIENNE\n".encode())
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("finess;etalab\nSAINT-ÉTIENNE\n".encode("latin-1"))
    assert detect_encoding(utf8) == "utf-8-sig"
    assert detect_encoding(latin1) == "latin-1"
