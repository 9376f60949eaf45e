"""Importing the same data twice changes nothing: no duplicate, no update."""

import pytest

from parcours.territory.models import Commune
from parcours.territory.services import communes_import

from .helpers import write_csv

pytestmark = pytest.mark.django_db


def snapshot():
    return list(
        Commune.objects.order_by("insee").values_list(
            "insee",
            "name",
            "kind",
            "parent_id",
            "postal_codes",
            "population",
            "latitude",
            "longitude",
        )
    )


def test_it_changes_nothing_the_second_time(tmp_path):
    centres = write_csv(tmp_path, "insee_com,lat,lng\n69259,45.6978,4.8867\n75056,48.8566,2.3522\n")
    first = communes_import(centres=centres)
    assert first.ok, first.summary()
    before = snapshot()

    second = communes_import(centres=centres)

    assert second.ok, second.summary()
    assert (second.created, second.updated) == (0, 0)
    assert second.unchanged == first.created == len(before)
    assert snapshot() == before


def test_it_updates_only_what_changed(tmp_path):
    assert communes_import().ok
    Commune.objects.filter(insee="69259").update(
        name="Vénissieux (ancien nom)", population=1, postal_codes=["69999"]
    )

    report = communes_import()

    assert (report.created, report.updated) == (0, 1)
    venissieux = Commune.objects.get(insee="69259")
    assert (venissieux.name, venissieux.population) == ("Vénissieux", 65502)
    assert venissieux.postal_codes == ["69200"]
