"""A batch that fails in the database leaves nothing behind; running again completes it."""

import pytest
from django.db import connection

from parcours.directory.models import PracticeSituation, Professional, Structure
from parcours.directory.rpps import rpps_import

from .rpps_samples import activity, write_rpps

pytestmark = pytest.mark.django_db


@pytest.fixture
def refuse_boom():
    """A database trigger refusing situations named BOOM: a real failure inside a batch."""
    table = PracticeSituation._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TRIGGER refuse_boom BEFORE INSERT ON {table} "
                "WHEN NEW.place_name = 'BOOM' BEGIN SELECT RAISE(ABORT, 'boom'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION refuse_boom() RETURNS trigger AS $$ BEGIN "
                "IF NEW.place_name = 'BOOM' THEN RAISE EXCEPTION 'boom'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER refuse_boom BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_boom()"
            )
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER refuse_boom")
        else:
            cursor.execute(f"DROP TRIGGER refuse_boom ON {table}")
            cursor.execute("DROP FUNCTION refuse_boom()")


def rows(failing: str):
    return [
        activity("10000000001", structure="C1", company="MSP"),
        activity("10000000002", structure="C1", company="MSP"),
        activity("10000000003", structure="C3", company="CABINET"),  # second batch
        activity("10000000004", structure="C4", company=failing),
        activity("10000000005", structure="C5", company="CENTRE"),  # third batch
    ]


def test_a_failing_batch_is_rolled_back_entirely(tmp_path, refuse_boom):
    path = write_rpps(tmp_path / "rpps.txt", rows(failing="BOOM"))

    report = rpps_import(path=path, batch_size=2)

    assert "lignes 4 à 5" in report.error
    assert set(Professional.objects.values_list("rpps", flat=True)) == {
        "10000000001",
        "10000000002",
    }
    assert list(Structure.objects.values_list("rpps_structure_id", flat=True)) == ["C1"]
    assert PracticeSituation.objects.count() == 2
    assert report.professionals["created"] == 2  # the failed batch is not counted
    assert report.professionals["deactivated"] == 0


def test_running_again_completes_an_interrupted_import_without_duplicates(tmp_path, refuse_boom):
    path = write_rpps(tmp_path / "rpps.txt", rows(failing="BOOM"))
    rpps_import(path=path, batch_size=2)
    write_rpps(path, rows(failing="CABINET BIS"))

    report = rpps_import(path=path, batch_size=2)

    assert report.error == ""
    assert (report.created, report.unchanged) == (3, 2)
    assert Professional.objects.count() == 5
    assert PracticeSituation.objects.count() == 5
    assert Structure.objects.count() == 4
