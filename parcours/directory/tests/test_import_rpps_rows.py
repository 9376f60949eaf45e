"""What one RPPS row becomes: professional, structure, practice situation."""

import pytest
from django.utils import timezone

from parcours.directory.models import PracticeSituation, Professional, Structure
from parcours.directory.rpps import rpps_import

from .rpps_samples import activity, make_communes, write_rpps

pytestmark = pytest.mark.django_db


@pytest.fixture
def communes():
    return make_communes()


def test_it_creates_the_professional_and_the_situation(tmp_path, communes):
    path = write_rpps(
        tmp_path / "rpps.txt",
        [
            activity(
                "10000000001",
                civility_code="M",
                civility="Monsieur",
                last_name="DUPONT",
                first_name="Jean",
                savoir_faire_code="SM54",
                savoir_faire="Médecine générale",
                mode="L",
                structure="C12345678900011",
                company="CABINET DU DR DUPONT",
                number="12",
                repetition="B",
                street_type_code="R",
                street_type="Rue",
                street="DE LA REPUBLIQUE",
                place="Bâtiment A",
                postal_code="69200",
                commune="69259",
                phone="0478000000",
                email="cabinet@example.org",
                siret="12345678900011",
            )
        ],
    )

    report = rpps_import(path=path)

    assert (report.read, report.created, report.rejected) == (1, 1, [])
    professional = Professional.objects.get()
    assert professional.rpps == "10000000001"
    assert (professional.last_name, professional.first_name) == ("DUPONT", "Jean")
    assert (professional.civility_code, professional.civility, professional.sex) == (
        "M",
        "Monsieur",
        "M",
    )
    assert (professional.profession_code, professional.profession) == ("10", "Médecin")
    assert (professional.savoir_faire_code, professional.savoir_faire) == (
        "SM54",
        "Médecine générale",
    )
    assert (professional.source, professional.checked_on) == ("rpps", timezone.localdate())
    situation = PracticeSituation.objects.get()
    assert situation.professional == professional
    assert situation.mode == "L"
    assert situation.place_name == "CABINET DU DR DUPONT"
    assert situation.address == "Bâtiment A, 12 bis Rue DE LA REPUBLIQUE"
    assert (situation.postal_code, situation.commune_id) == ("69200", "69259")
    assert (situation.latitude, situation.longitude) == (45.6975, 4.8867)
    assert situation.location_precision == "commune"
    assert (situation.phone, situation.phone_public) == ("0478000000", True)
    assert (situation.email, situation.email_public) == ("cabinet@example.org", False)
    assert len(situation.source_key) == 40
    assert situation.source_key.startswith(professional.rpps)  # in file order, not at random
    structure = Structure.objects.get()
    assert situation.structure == structure
    assert structure.rpps_structure_id == "C12345678900011"
    assert (structure.name, structure.siret, structure.finess_et) == (
        "CABINET DU DR DUPONT",
        "12345678900011",
        None,
    )
    assert (structure.source, structure.commune_id) == ("rpps", "69259")


@pytest.mark.parametrize(("code", "sex"), [("M", "M"), ("MME", "F"), ("MLLE", "F"), ("", "")])
def test_it_derives_the_sex_from_the_civility(tmp_path, code, sex):
    path = write_rpps(tmp_path / "rpps.txt", [activity(civility_code=code, civility="")])

    rpps_import(path=path)

    assert Professional.objects.get().sex == sex


def test_it_resolves_a_municipal_arrondissement_as_its_own_commune(tmp_path, communes):
    path = write_rpps(tmp_path / "rpps.txt", [activity(commune="69383", postal_code="69003")])

    rpps_import(path=path)

    situation = PracticeSituation.objects.get()
    assert situation.commune.name == "Lyon 3e Arrondissement"
    assert (situation.latitude, situation.longitude) == (45.7597, 4.8502)


def test_it_keeps_a_row_whose_commune_is_unknown_without_location(tmp_path, communes):
    path = write_rpps(tmp_path / "rpps.txt", [activity(commune="99999", postal_code="99999")])

    report = rpps_import(path=path)

    assert report.rejected == []
    situation = PracticeSituation.objects.get()
    assert (situation.commune, situation.postal_code) == (None, "99999")
    assert (situation.latitude, situation.longitude) == (None, None)
    assert situation.location_precision == "unknown"


def test_it_keeps_the_first_non_empty_savoir_faire(tmp_path):
    path = write_rpps(
        tmp_path / "rpps.txt",
        [
            activity(commune="69259", structure="S1"),
            activity(
                commune="69259",
                structure="S2",
                savoir_faire_code="SM20",
                savoir_faire="Gynécologie-obstétrique",
            ),  # fmt: skip
            activity(
                commune="69259",
                structure="S3",
                savoir_faire_code="SM54",
                savoir_faire="Médecine générale",
            ),  # fmt: skip
        ],
    )

    rpps_import(path=path)

    professional = Professional.objects.get()
    assert professional.savoir_faire_code == "SM20"
    assert professional.situations.count() == 3


def test_it_keeps_the_savoir_faire_of_a_professional_spanning_two_batches(tmp_path):
    rows = [
        activity("10000000001", structure="S1"),
        activity(
            "10000000001",
            structure="S2",
            savoir_faire_code="SM54",
            savoir_faire="Médecine générale",
        ),  # fmt: skip
    ]
    path = write_rpps(tmp_path / "rpps.txt", rows)

    first = rpps_import(path=path, batch_size=1)
    second = rpps_import(path=path, batch_size=1)

    assert Professional.objects.get().savoir_faire_code == "SM54"
    assert (first.professionals["created"], second.professionals["unchanged"]) == (1, 1)
    assert second.professionals["updated"] == 0


def test_it_links_a_structure_known_from_finess_instead_of_duplicating_it(tmp_path):
    hospital = Structure.objects.create(name="CH DE FLEYRIAT", finess_et="010000024",
                                        source="finess")  # fmt: skip
    rows = [
        activity("10000000001", structure="F010000024", finess="010000024", company="CH FLEYRIAT"),
        activity("10000000002", structure="F010000024", finess="010000024", company="CH FLEYRIAT"),
    ]
    path = write_rpps(tmp_path / "rpps.txt", rows)

    report = rpps_import(path=path)
    again = rpps_import(path=path)

    assert Structure.objects.count() == 1
    hospital.refresh_from_db()
    assert (hospital.name, hospital.source) == ("CH DE FLEYRIAT", "finess")
    assert hospital.rpps_structure_id == "F010000024"
    assert set(PracticeSituation.objects.values_list("structure", flat=True)) == {hospital.pk}
    assert report.structures["linked"] == 1
    assert (again.structures["created"], again.structures["updated"]) == (0, 0)


def test_it_shares_one_structure_between_its_professionals(tmp_path):
    rows = [
        activity("10000000001", structure="C1", company="MSP DES MINGUETTES", finess="690000001"),
        activity("10000000002", structure="C1", company="MSP DES MINGUETTES", finess="690000001"),
    ]
    path = write_rpps(tmp_path / "rpps.txt", rows)

    rpps_import(path=path)

    structure = Structure.objects.get()
    assert (structure.finess_et, structure.name) == ("690000001", "MSP DES MINGUETTES")
    assert structure.situations.count() == 2


@pytest.mark.parametrize("batch_size", [1, 10])
def test_two_identifiers_of_one_new_finess_number_make_one_structure(tmp_path, batch_size):
    rows = [
        activity("10000000001", structure="C1", company="EHPAD LES TILLEULS", finess="690000009"),
        activity("10000000002", structure="C2", company="EHPAD TILLEULS", finess="690000009"),
        activity("10000000003", structure="C3", company="CABINET"),
    ]
    path = write_rpps(tmp_path / "rpps.txt", rows)

    report = rpps_import(path=path, batch_size=batch_size)
    again = rpps_import(path=path, batch_size=batch_size)

    ehpad = Structure.objects.get(finess_et="690000009")
    assert (ehpad.rpps_structure_id, ehpad.name) == ("C1", "EHPAD LES TILLEULS")
    assert Structure.objects.count() == 2
    assert ehpad.situations.count() == 2
    assert report.structures["created"] == 2
    assert (again.structures["created"], again.structures["updated"]) == (0, 0)
    assert again.unchanged == 3


def test_it_keeps_coordinates_refined_by_the_geocoder(tmp_path, communes):
    path = write_rpps(tmp_path / "rpps.txt", [activity(commune="69259")])
    rpps_import(path=path)
    PracticeSituation.objects.update(latitude=45.71, longitude=4.88, location_precision="address")

    report = rpps_import(path=path)

    situation = PracticeSituation.objects.get()
    assert (situation.latitude, situation.longitude) == (45.71, 4.88)
    assert situation.location_precision == "address"
    assert report.unchanged == 1


def test_it_keeps_an_email_made_public_until_it_changes(tmp_path):
    path = write_rpps(tmp_path / "rpps.txt", [activity(email="a@example.org")])
    rpps_import(path=path)
    PracticeSituation.objects.update(email_public=True)

    rpps_import(path=path)
    assert PracticeSituation.objects.get().email_public is True

    write_rpps(path, [activity(email="b@example.org")])
    rpps_import(path=path)
    situation = PracticeSituation.objects.get()
    assert (situation.email, situation.email_public) == ("b@example.org", False)
