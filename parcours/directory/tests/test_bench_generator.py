"""The benchmark's generators write files the real parsers read without a rejection.

Performance itself is measured by ``bench/directory.py`` only, never in the test suite.
"""

from bench.directory import (
    Place,
    finess_establishments,
    finess_lines,
    query_mix,
    rpps_lines,
)
from parcours.directory.finess import (
    _locate,
    _read_establishments,
    _read_points,
    detect_encoding,
)
from parcours.directory.importing import ImportReport
from parcours.directory.rpps import LAYOUT_56, RppsRejection, parse_rpps

from .rpps_samples import HEADER_52, shared_sample

PLACES = [  # métropole, Corsica, an arrondissement, and each overseas projection
    Place("69259", "Vénissieux", "69200", "69", 45.6975, 4.8867, 65_000),
    Place("69383", "Lyon 3e Arrondissement", "69003", "69", 45.7597, 4.8502, 100_000),
    Place("2A004", "Ajaccio", "20000", "2A", 41.9192, 8.7386, 70_000),
    Place("59350", "Lille", "59000", "59", 50.6292, 3.0573, 230_000),
    Place("97101", "Les Abymes", "97139", "971", 16.2710, -61.5046, 50_000),
    Place("97209", "Fort-de-France", "97200", "972", 14.6161, -61.0588, 75_000),
    Place("97302", "Cayenne", "97300", "973", 4.9372, -52.3260, 60_000),
    Place("97411", "Saint-Denis", "97400", "974", -20.8789, 55.4481, 150_000),
    Place("97611", "Mamoudzou", "97600", "976", -12.7806, 45.2278, 70_000),
    Place("97701", "Saint-Barthélemy", "97133", "977", 17.8964, -62.8498, 10_000),
]


def test_the_official_header_is_the_real_files_one():
    header = shared_sample().read_text(encoding="utf-8").splitlines()[0]
    assert header.rstrip("|").split("|") == list(LAYOUT_56[:52]) == HEADER_52
    assert len(LAYOUT_56) == 56


def test_generated_rpps_rows_parse_without_rejection():
    establishments = finess_establishments(300, PLACES, seed=3)
    lines = list(rpps_lines(500, PLACES, establishments, seed=3))
    assert lines[0].rstrip("|").split("|") == list(LAYOUT_56)
    assert all(line.count("|") == 56 for line in lines)  # 56 cells and the trailing "|"

    items = list(parse_rpps(lines))

    assert len(items) == 500
    assert not [item for item in items if isinstance(item, RppsRejection)]
    assert len({item.rpps for item in items}) < 500  # professionals with several activities
    structures = [item.structure_id for item in items if item.structure_id]
    assert len(set(structures)) < len(structures)  # places shared by several professionals
    assert any(item.structure[1] for item in items)  # some link to a FINESS establishment
    assert len({item.professional[5] for item in items}) >= 8  # professions
    assert {"L", "S"} <= {item.mode for item in items}


def test_generated_finess_lines_parse_and_locate_without_rejection(tmp_path):
    establishments = finess_establishments(400, PLACES, seed=5)
    path = tmp_path / "finess.csv"
    path.write_bytes(("\n".join(finess_lines(establishments, seed=5)) + "\n").encode("latin-1"))
    encoding = detect_encoding(path)
    report = ImportReport(source="FINESS")

    points = _read_points(path, encoding, report)
    read = list(_read_establishments(path, encoding, report, {}, None))
    locations = _locate(read, points, report)

    assert encoding == "latin-1"
    assert report.rejected == []
    assert len(read) == 400
    assert len(locations) == len(points) > 350  # about 3 % have no coordinates
    departements = {e.departement for e in read}
    assert {"69", "2A", "9A", "9B", "9C", "9D", "9F"} <= departements
    for establishment in read:
        if establishment.finess_et in locations:
            latitude, longitude, _precision = locations[establishment.finess_et]
            place = next(e.place for e in establishments if e.finess_et == establishment.finess_et)
            assert abs(latitude - place.latitude) < 0.02
            assert abs(longitude - place.longitude) < 0.02


def test_the_query_mix_is_fixed_by_its_seed():
    first = query_mix(PLACES, 50, 10, seed=11)
    again = query_mix(PLACES, 50, 10, seed=11)
    assert first.searches == again.searches and first.viewports == again.viewports
    assert len(first.searches) == 50 and len(first.viewports) == 10
    assert query_mix(PLACES, 50, 10, seed=12).searches != first.searches
