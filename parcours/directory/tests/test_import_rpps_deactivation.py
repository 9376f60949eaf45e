"""Absent from a new extraction: deactivated, never deleted; back: reactivated."""

import pytest

from parcours.directory.models import PracticeSituation, Professional
from parcours.directory.rpps import rpps_import
from parcours.territory.models import Territory

from .rpps_samples import activity, line, make_communes, write_rpps

pytestmark = pytest.mark.django_db

ALICE = activity("10000000001", structure="C1", commune="69259")
BOB = activity("10000000002", structure="C2", commune="67482")
BOB_LYON = activity("10000000002", structure="C3", commune="69383")


def active(model):
    return set(model.objects.filter(is_active=True).values_list("pk", flat=True))


def test_it_deactivates_professionals_absent_from_a_whole_country_import(tmp_path):
    path = write_rpps(tmp_path / "rpps.txt", [ALICE, BOB])
    rpps_import(path=path)
    write_rpps(path, [ALICE])

    report = rpps_import(path=path)

    bob = Professional.objects.get(rpps="10000000002")
    assert bob.is_active is False
    assert bob.situations.get().is_active is False
    assert Professional.objects.get(rpps="10000000001").is_active is True
    assert (report.professionals["deactivated"], report.deactivated) == (1, 1)
    assert Professional.objects.count() == 2  # never deleted


def test_it_reactivates_a_professional_who_comes_back(tmp_path):
    path = write_rpps(tmp_path / "rpps.txt", [ALICE, BOB])
    rpps_import(path=path)
    write_rpps(path, [ALICE])
    rpps_import(path=path)
    write_rpps(path, [ALICE, BOB])

    report = rpps_import(path=path)

    assert Professional.objects.filter(is_active=False).count() == 0
    assert PracticeSituation.objects.filter(is_active=False).count() == 0
    assert (report.updated, report.professionals["updated"]) == (1, 1)


def test_it_deactivates_a_situation_that_moved(tmp_path):
    make_communes()
    path = write_rpps(tmp_path / "rpps.txt", [ALICE, BOB])
    rpps_import(path=path)
    write_rpps(path, [ALICE, BOB_LYON])

    report = rpps_import(path=path)

    bob = Professional.objects.get(rpps="10000000002")
    assert bob.is_active is True
    assert sorted(bob.situations.values_list("commune", "is_active")) == [
        ("67482", False),
        ("69383", True),
    ]
    assert (report.created, report.deactivated) == (1, 1)


def test_it_never_deactivates_a_professional_whose_row_was_rejected(tmp_path):
    path = write_rpps(tmp_path / "rpps.txt", [ALICE, BOB])
    rpps_import(path=path)
    truncated = "|".join(line(BOB).split("|")[:20])
    write_rpps(path, [ALICE, truncated])

    report = rpps_import(path=path)

    assert len(report.rejected) == 1
    assert active(Professional) == set(Professional.objects.values_list("pk", flat=True))
    assert report.deactivated == 0


def test_a_territory_import_deactivates_only_situations_of_its_territory(tmp_path, org_a, no_scope):
    communes = make_communes()
    territory = Territory.objects.create(organisation=org_a, name="Vénissieux et Lyon")
    territory.communes.add(communes["69259"], communes["69123"])  # Lyon: its arrondissements too
    carol = activity("10000000003", structure="C4", commune="69383")
    path = write_rpps(tmp_path / "rpps.txt", [ALICE, BOB, carol])
    rpps_import(path=path)
    write_rpps(path, [ALICE])  # Bob (Strasbourg) and Carol (Lyon 3e) are gone

    report = rpps_import(path=path, organisation=org_a)

    inactive = PracticeSituation.objects.filter(is_active=False)
    assert list(inactive.values_list("commune", flat=True)) == ["69383"]
    assert Professional.objects.filter(is_active=False).count() == 0
    assert (report.unchanged, report.deactivated) == (1, 1)


def test_a_territory_import_skips_rows_outside_the_territory(tmp_path, org_a, no_scope):
    communes = make_communes()
    Territory.objects.create(organisation=org_a, name="Vénissieux").communes.add(communes["69259"])
    path = write_rpps(tmp_path / "rpps.txt", [ALICE, BOB, BOB_LYON])

    report = rpps_import(path=path, organisation=org_a)

    assert (report.read, report.created, report.outside) == (3, 1, 2)
    assert list(Professional.objects.values_list("rpps", flat=True)) == ["10000000001"]
