"""``finess_import`` and ``manage.py import_finess`` on official-layout extractions."""

import math
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.utils import timezone

from parcours.directory import finess
from parcours.directory.finess import FinessFileError, finess_import
from parcours.directory.models import Structure
from parcours.territory.models import Commune

from .finess_samples import (
    SHARED_SAMPLE,
    geo_line,
    lines_from_flat_sample,
    structure_line,
    write_extraction,
)

pytestmark = pytest.mark.django_db

FLEYRIAT = "010000024"
BELLEY = "010000032"
TREVOUX = "010000065"


def commune(insee, name, latitude=None, longitude=None, departement="01"):
    return Commune.objects.create(
        insee=insee,
        name=name,
        departement=departement,
        region="84",
        latitude=latitude,
        longitude=longitude,
    )


def distance_m(lat1, lon1, lat2, lon2):
    """Haversine distance in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def reasons(report):
    return {rejection.line: rejection.reason for rejection in report.rejected}


def test_it_creates_an_establishment_with_its_address_and_coordinates(tmp_path):
    commune("01451", "Viriat")
    path = write_extraction(
        tmp_path / "finess.csv",
        [structure_line(FLEYRIAT), geo_line(FLEYRIAT, 870215.7, 6571590.5)],
    )

    report = finess_import(path=path)

    assert (report.created, report.rejected) == (1, [])
    structure = Structure.objects.get(finess_et=FLEYRIAT)
    assert structure.name == "CH DE FLEYRIAT"
    assert structure.long_name == "CENTRE HOSPITALIER DE BOURG-EN-BRESSE FLEYRIAT"
    assert (structure.finess_ej, structure.siret) == ("010780054", "26010004500012")
    assert (structure.category_code, structure.category) == ("355", "Centre Hospitalier (C.H.)")
    assert (structure.aggregate_category_code, structure.aggregate_category) == (
        "1102",
        "Centres Hospitaliers",
    )
    assert (structure.address, structure.postal_code) == ("900 RTE DE PARIS", "01440")
    assert structure.commune_id == "01451"
    assert (structure.phone, structure.phone_public) == ("0474454647", True)
    assert structure.email == ""
    assert (structure.latitude, structure.longitude) == pytest.approx((46.2227, 5.2086), abs=1e-3)
    assert structure.location_precision == "address"
    assert (structure.source, structure.checked_on) == ("finess", timezone.localdate())
    assert structure.is_active


@pytest.mark.skipif(not SHARED_SAMPLE.exists(), reason="shared FINESS sample not available")
def test_it_imports_the_shared_sample_where_the_communes_are(tmp_path):
    # Centres of the communes (town halls), from the Code officiel géographique's gazetteers.
    bourg = commune("01053", "Bourg-en-Bresse", 46.2056, 5.2258)
    belley = commune("01034", "Belley", 45.7586, 5.6883)
    path = write_extraction(tmp_path / "finess.csv", lines_from_flat_sample())

    report = finess_import(path=path)

    assert (report.created, report.rejected) == (100, [])
    assert Structure.objects.filter(latitude__isnull=False).count() == 100
    for finess_et, centre in (("010003002", bourg), ("010002723", belley)):
        structure = Structure.objects.get(finess_et=finess_et)
        assert structure.commune_id == centre.insee
        gap = distance_m(structure.latitude, structure.longitude, centre.latitude, centre.longitude)
        assert gap < 500, f"{finess_et} is {gap:.0f} m from the centre of {centre.name}"
    assert Structure.objects.get(finess_et=FLEYRIAT).commune_id is None  # Viriat not loaded


def test_it_reads_a_latin1_file_with_accents(tmp_path):
    path = write_extraction(
        tmp_path / "finess.csv",
        [structure_line(FLEYRIAT, rs="CH SAINT-ÉTIENNE", voie="DE L'HÔPITAL")],
        encoding="latin-1",
    )

    finess_import(path=path)

    structure = Structure.objects.get(finess_et=FLEYRIAT)
    assert (structure.name, structure.address) == ("CH SAINT-ÉTIENNE", "900 RTE DE L'HÔPITAL")


def test_it_reads_a_utf8_file(tmp_path):
    path = write_extraction(
        tmp_path / "finess.csv",
        [structure_line(FLEYRIAT, rs="ŒUVRE DES ÉCOLES", voie="DE L'ÉGLISE")],
        encoding="utf-8",
    )

    finess_import(path=path)

    structure = Structure.objects.get(finess_et=FLEYRIAT)
    assert (structure.name, structure.address) == ("ŒUVRE DES ÉCOLES", "900 RTE DE L'ÉGLISE")


def test_it_places_overseas_and_corsican_establishments(tmp_path):
    commune("97120", "Pointe-à-Pitre", departement="971")
    commune("97411", "Saint-Denis", departement="974")
    commune("2A004", "Ajaccio", departement="2A")
    path = write_extraction(
        tmp_path / "finess.csv",
        [
            structure_line("970100012", departement="9A", commune="120"),
            structure_line("970400016", departement="9D", commune="411"),
            structure_line("2A0000014", departement="2A", commune="004"),
            # No projection named: the département's legal one (UTM 20N, UTM 40S, Lambert-93).
            geo_line("970100012", 656771, 1796166, source="1,ATLASANTE,100,IGN,BD_ADRESSE"),
            geo_line(
                "970400016",
                338808,
                7690478,
                source="1,ATLASANTE,100,IGN,BD_ADRESSE,V3.0,EPSG:2975 RGR92 / UTM 40S (Réunion)",
            ),
            geo_line("2A0000014", 1176527, 6108263, source="1,ATLASANTE,100,IGN,BD_ADRESSE"),
        ],
    )

    report = finess_import(path=path)

    assert report.rejected == []
    expected = {
        "970100012": ("97120", 16.2411, -61.5331),  # Pointe-à-Pitre
        "970400016": ("97411", -20.8789, 55.4504),  # Saint-Denis de La Réunion
        "2A0000014": ("2A004", 41.9192, 8.7369),  # Ajaccio
    }
    for finess_et, (insee, latitude, longitude) in expected.items():
        structure = Structure.objects.get(finess_et=finess_et)
        assert structure.commune_id == insee
        assert distance_m(structure.latitude, structure.longitude, latitude, longitude) < 50


def test_it_reports_each_rejected_line_with_its_reason(tmp_path):
    path = write_extraction(
        tmp_path / "finess.csv",
        [
            structure_line(FLEYRIAT),  # 2
            structure_line(BELLEY)[:60],  # 3: truncated
            structure_line(TREVOUX) + ";x;y;z",  # 4: too many fields
            structure_line("010000025"),  # 5: wrong Luhn key
            structure_line("01000002X"),  # 6: not a FINESS number
            "autre;010000024",  # 7
            geo_line(FLEYRIAT, 0, 0),  # 8: zero
            geo_line("010000099", 870215.7, 6571590.5),  # 9: establishment not in the file
            geo_line(BELLEY, "nan", 6520414.1),  # 10: NaN
            geo_line("010000081", 100.0, 100.0),  # 11: outside France once converted
            "geolocalisation;010000107;1;2",  # 12: truncated
            structure_line("010000081"),  # 13
        ],
    )

    report = finess_import(path=path)

    found = reasons(report)
    assert sorted(found) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert "tronquée" in found[3] and "5 champs au lieu de 31 ou 32" in found[3]
    assert "34 champs" in found[4]
    assert "numéro FINESS invalide « 010000025 »" in found[5]
    assert "numéro FINESS invalide « 01000002X »" in found[6]
    assert "type de ligne inconnu « autre »" in found[7]
    assert "coordonnées impossibles" in found[8]
    assert "établissement absent du fichier : 010000099" in found[9]
    assert "coordonnées impossibles" in found[10]
    assert "hors de France" in found[11]
    assert "tronquée" in found[12]
    # A structure damaged in this file is not deactivated, and nothing is half-written.
    assert set(Structure.objects.values_list("finess_et", flat=True)) == {FLEYRIAT, "010000081"}
    assert not Structure.objects.filter(latitude__isnull=False).exists()


def test_it_rejects_an_unknown_projection(tmp_path):
    path = write_extraction(
        tmp_path / "finess.csv",
        [
            structure_line(FLEYRIAT, departement="ZZ"),
            geo_line(FLEYRIAT, 870215.7, 6571590.5, source="1,ATLASANTE,100,IGN,BD_ADRESSE"),
            structure_line(BELLEY),
            geo_line(BELLEY, 908351.7, 6520414.1, source="1,X,EPSG:99999 Inconnue"),
        ],
    )

    report = finess_import(path=path)

    assert list(reasons(report)) == [3, 5]
    assert all("projection inconnue" in reason for reason in reasons(report).values())
    assert report.created == 2


def test_it_changes_nothing_the_second_time(tmp_path):
    path = write_extraction(
        tmp_path / "finess.csv",
        [structure_line(FLEYRIAT), structure_line(BELLEY), geo_line(FLEYRIAT, 870215.7, 6571590.5)],
    )
    finess_import(path=path)

    report = finess_import(path=path)

    assert (report.created, report.updated, report.unchanged, report.deactivated) == (0, 0, 2, 0)
    assert Structure.objects.count() == 2


def test_it_updates_what_changed(tmp_path):
    finess_import(path=write_extraction(tmp_path / "a.csv", [structure_line(FLEYRIAT)]))

    report = finess_import(
        path=write_extraction(tmp_path / "b.csv", [structure_line(FLEYRIAT, rs="CH FLEYRIAT")])
    )

    assert (report.created, report.updated) == (0, 1)
    assert Structure.objects.get(finess_et=FLEYRIAT).name == "CH FLEYRIAT"


def test_it_completes_a_structure_met_in_the_rpps(tmp_path):
    Structure.objects.create(
        finess_et=FLEYRIAT, rpps_structure_id="R10000000001", name="CH BOURG", source="rpps"
    )

    report = finess_import(path=write_extraction(tmp_path / "f.csv", [structure_line(FLEYRIAT)]))

    assert (report.created, report.updated) == (0, 1)
    structure = Structure.objects.get()
    assert (structure.name, structure.source) == ("CH DE FLEYRIAT", "finess")
    assert structure.rpps_structure_id == "R10000000001"


def test_it_keeps_coordinates_it_does_not_replace(tmp_path):
    Structure.objects.create(
        finess_et=FLEYRIAT,
        name="CH DE FLEYRIAT",
        address="900 RTE DE PARIS",
        latitude=46.22,
        longitude=5.21,
        location_precision="street",
    )

    finess_import(path=write_extraction(tmp_path / "f.csv", [structure_line(FLEYRIAT)]))

    structure = Structure.objects.get()
    assert (structure.latitude, structure.longitude, structure.location_precision) == (
        46.22,
        5.21,
        "street",
    )


def test_it_deactivates_establishments_no_longer_in_the_file(tmp_path):
    Structure.objects.create(finess_et="010000081", name="Met in the RPPS only", source="rpps")
    finess_import(
        path=write_extraction(
            tmp_path / "a.csv", [structure_line(FLEYRIAT), structure_line(BELLEY)]
        )
    )

    report = finess_import(path=write_extraction(tmp_path / "b.csv", [structure_line(FLEYRIAT)]))

    assert report.deactivated == 1
    assert not Structure.objects.get(finess_et=BELLEY).is_active
    assert Structure.objects.get(finess_et="010000081").is_active  # not FINESS's to close
    again = finess_import(
        path=write_extraction(
            tmp_path / "c.csv", [structure_line(FLEYRIAT), structure_line(BELLEY)]
        )
    )
    assert (again.updated, Structure.objects.get(finess_et=BELLEY).is_active) == (1, True)


def test_a_failed_batch_is_not_applied_and_running_again_completes_it(tmp_path, monkeypatch):
    monkeypatch.setattr(finess, "BATCH_SIZE", 2)
    numbers = [FLEYRIAT, BELLEY, TREVOUX, "010000081"]
    Structure.objects.create(finess_et="010000081", name="Old name", source="finess")
    path = write_extraction(tmp_path / "f.csv", [structure_line(n) for n in numbers])

    def failing_update_rows(model, fields, rows):  # the database fails in batch 2
        raise DatabaseError("connection lost")

    with monkeypatch.context() as patch:
        patch.setattr(finess, "update_rows", failing_update_rows)
        with pytest.raises(DatabaseError):
            finess_import(path=path)

    # Batch 1 is in; batch 2 (TREVOUX created, 010000081 updated) left no trace.
    assert set(Structure.objects.values_list("finess_et", flat=True)) == {
        FLEYRIAT,
        BELLEY,
        "010000081",
    }
    assert Structure.objects.get(finess_et="010000081").name == "Old name"
    report = finess_import(path=path)
    assert (report.created, report.updated, report.unchanged) == (1, 1, 2)
    assert Structure.objects.count() == 4


def test_it_refuses_a_file_without_the_finess_first_line(tmp_path):
    path = write_extraction(tmp_path / "f.csv", [structure_line(FLEYRIAT)], header="nofinesset;x")

    with pytest.raises(FinessFileError, match="finess;etalab"):
        finess_import(path=path)

    assert not Structure.objects.exists()


def test_the_command_prints_the_summary_and_writes_the_report(tmp_path):
    path = write_extraction(
        tmp_path / "f.csv", [structure_line(FLEYRIAT), structure_line("010000025")]
    )
    out = StringIO()

    call_command(
        "import_finess",
        str(path),
        "--report",
        str(tmp_path / "r.txt"),
        stdout=out,
        stderr=StringIO(),
    )

    assert "1 créées" in out.getvalue() and "1 rejetées" in out.getvalue()
    report = (tmp_path / "r.txt").read_text(encoding="utf-8")
    assert "ligne 3 : numéro FINESS invalide « 010000025 »" in report


def test_the_command_fails_on_a_file_that_is_not_finess(tmp_path):
    path = write_extraction(tmp_path / "f.csv", [], header="bonjour")

    with pytest.raises(CommandError, match="n'est pas une extraction FINESS"):
        call_command(
            "import_finess", str(path), "--report", str(tmp_path / "r.txt"), stderr=StringIO()
        )
