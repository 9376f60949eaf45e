"""Running the same import twice changes nothing the second time."""

import pytest

from parcours.directory.models import PracticeSituation, Professional, Structure
from parcours.directory.rpps import rpps_import

from .rpps_samples import HEADER_56, activity, make_communes, write_rpps

pytestmark = pytest.mark.django_db


def rows():
    return [
        activity("10000000001", structure="C1", company="MSP", commune="69259", number="3"),
        activity("10000000001", structure="C2", company="CH", finess="690000002", commune="69383"),
        activity("10000000002", civility_code="M", savoir_faire_code="SM54", commune="69123"),
        activity("10000000003", mode="S", structure="C1", company="MSP", commune="69259"),
        activity("10000000003", mode="S", structure="C1", company="MSP", commune="69259"),  # twice
    ]


def test_it_changes_nothing_when_run_twice(tmp_path):
    make_communes()
    path = write_rpps(tmp_path / "rpps.txt", rows(), header=HEADER_56)

    first = rpps_import(path=path, batch_size=2)
    snapshot = _snapshot()
    second = rpps_import(path=path, batch_size=2)

    assert (first.created, first.duplicates) == (4, 1)
    assert (second.created, second.updated, second.unchanged, second.duplicates) == (0, 0, 4, 1)
    assert second.professionals == {"created": 0, "updated": 0, "unchanged": 3, "deactivated": 0}
    assert (second.structures["created"], second.structures["updated"]) == (0, 0)
    assert second.deactivated == 0
    assert _snapshot() == snapshot


def test_it_updates_only_what_changed(tmp_path):
    path = write_rpps(tmp_path / "rpps.txt", rows())
    rpps_import(path=path)
    changed = rows()
    changed[2]["last_name"] = "MARTIN-DURAND"
    changed[3]["mode"] = "L"
    write_rpps(path, changed)

    report = rpps_import(path=path)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 3)
    assert (report.professionals["updated"], report.professionals["unchanged"]) == (1, 2)
    assert Professional.objects.get(rpps="10000000002").last_name == "MARTIN-DURAND"


def _snapshot():
    return (
        list(Professional.objects.order_by("pk").values()),
        list(Structure.objects.order_by("pk").values()),
        list(PracticeSituation.objects.order_by("pk").values()),
    )
