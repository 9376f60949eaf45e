"""A batch that fails in the database leaves nothing behind; running again completes it.

Batches commit one by one once the directory holds professionals; a first load (an empty
directory) is one transaction: a failure leaves nothing at all, and the indexes it rebuilds
are there again whatever happens (on SQLite, not from a web job: see RppsRun).
"""

import io
import threading
import time

import pytest
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from parcours.directory.importing import Progress, column_defaults
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


@pytest.fixture
def directory():
    """A directory already holding a professional: batches then commit one by one."""
    return Professional.objects.create(rpps="10000000009", last_name="DÉJÀ", is_active=True)


def test_a_failing_batch_is_rolled_back_entirely(tmp_path, directory, refuse_boom):
    path = write_rpps(tmp_path / "rpps.txt", rows(failing="BOOM"))

    report = rpps_import(path=path, batch_size=2)

    assert "lignes 4 à 5" in report.error
    assert "Les lots précédents sont enregistrés" in report.error
    assert set(Professional.objects.values_list("rpps", flat=True)) == {
        "10000000001",
        "10000000002",
        "10000000009",
    }
    assert list(Structure.objects.values_list("rpps_structure_id", flat=True)) == ["C1"]
    assert PracticeSituation.objects.count() == 2
    assert report.professionals["created"] == 2  # the failed batch is not counted
    assert report.professionals["deactivated"] == 0


def test_running_again_completes_an_interrupted_import_without_duplicates(
    tmp_path, directory, refuse_boom
):
    path = write_rpps(tmp_path / "rpps.txt", rows(failing="BOOM"))
    rpps_import(path=path, batch_size=2)
    write_rpps(path, rows(failing="CABINET BIS"))

    report = rpps_import(path=path, batch_size=2)

    assert report.error == ""
    assert (report.created, report.unchanged) == (3, 2)
    assert Professional.objects.filter(is_active=True).count() == 5
    assert not Professional.objects.get(rpps="10000000009").is_active
    assert PracticeSituation.objects.count() == 5
    assert Structure.objects.count() == 4


# --- A first load -------------------------------------------------------------------------------


def definitions() -> set[tuple[str, str]]:
    """The indexes and constraints of professionals and situations, as the database has them."""
    tables = [model._meta.db_table for model in (Professional, PracticeSituation)]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name IN (%s, %s)",
                tables,
            )
            return set(cursor.fetchall())
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid::regclass::text = ANY(%s) UNION ALL "
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid::regclass::text = ANY(%s)",
            [tables, tables],
        )
        return set(cursor.fetchall())


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's first load")


class Watched(Progress):
    """A progress noting how deep in transactions the import is at each update."""

    def __init__(self, stored: bool):
        super().__init__(stream=io.StringIO(), every=0)
        self.stored = stored
        self.depths: list[int] = []

    def update(self, done: int, *, force: bool = False) -> None:
        self.depths.append(len(connection.atomic_blocks))


@pytest.mark.parametrize("stored", [False, True])
def test_a_first_load_is_one_transaction_unless_sqlite_must_write_its_progress(tmp_path, stored):
    """SQLite has one writer: a progress written in the database (a web job's) could not be
    written beside a first load, which then commits batch by batch."""
    path = write_rpps(tmp_path / "rpps.txt", rows(failing="CABINET BIS"))
    progress = Watched(stored)
    outside = len(connection.atomic_blocks)

    report = rpps_import(path=path, batch_size=2, progress=progress)

    assert report.error == "" and len(progress.depths) >= 3
    one_transaction = connection.vendor == "postgresql" or not stored
    assert all(depth == outside + one_transaction for depth in progress.depths)


def test_a_first_load_is_one_transaction_that_rebuilds_the_indexes(tmp_path):
    before = definitions()
    assert len(before) > 8  # the primary keys, unique keys, indexes (and foreign keys)
    path = write_rpps(tmp_path / "rpps.txt", rows(failing="CABINET BIS"))
    with CaptureQueriesContext(connection) as queries:
        report = rpps_import(path=path, batch_size=2)

    assert report.error == ""
    assert (report.created, Professional.objects.count(), Structure.objects.count()) == (5, 5, 4)
    assert definitions() == before
    dropped = [query["sql"] for query in queries if query["sql"].startswith("DROP INDEX")]
    assert len(dropped) >= 6  # the secondary indexes of both tables, built again at the end
    if connection.vendor == "sqlite":
        return  # SQLite keeps its foreign keys, and no statistics
    with connection.cursor() as cursor:  # analysed, for the plans of the pages reading them
        cursor.execute(
            "SELECT DISTINCT tablename FROM pg_stats WHERE tablename = ANY(%s)",
            [[model._meta.db_table for model in (Professional, PracticeSituation, Structure)]],
        )
        assert len(cursor.fetchall()) == 3
    # The foreign key to professionals is checked again.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PracticeSituation._meta.db_table} SET professional_id = -1; "  # noqa: S608
            "SET CONSTRAINTS ALL IMMEDIATE"
        )


def test_an_interrupted_first_load_leaves_nothing_and_runs_again(tmp_path, refuse_boom):
    before = definitions()
    path = write_rpps(tmp_path / "rpps.txt", rows(failing="BOOM"))

    report = rpps_import(path=path, batch_size=2)

    assert "Premier chargement interrompu au lot des lignes 4 à 5" in report.error
    assert "Rien n'a été enregistré" in report.error
    assert (Professional.objects.count(), PracticeSituation.objects.count()) == (0, 0)
    assert Structure.objects.count() == 0
    assert definitions() == before

    write_rpps(path, rows(failing="CABINET BIS"))
    report = rpps_import(path=path, batch_size=2)

    assert report.error == ""
    assert (report.created, PracticeSituation.objects.count()) == (5, 5)
    assert definitions() == before


@pytest.mark.django_db(transaction=True)
def test_a_first_load_that_waited_for_another_run_goes_batch_by_batch(tmp_path, postgres):
    """A run begins on an empty directory while another is writing its first professional:
    it waits for the other's transaction, finds the tables filled, and commits batch by
    batch (deactivating what its file lacks) instead of taking the directory for empty."""
    path = write_rpps(tmp_path / "rpps.txt", rows(failing="CABINET BIS"))
    other = connections.create_connection(DEFAULT_DB_ALIAS)  # the other run, not committed
    other.set_autocommit(False)
    given = ("rpps", "last_name", "is_active")
    columns, defaults = column_defaults(Professional, given)
    table = Professional._meta.db_table
    with other.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join((*given, *columns))}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * (len(given) + len(columns)))})",
            ["10000000009", "DÉJÀ", True, *defaults],
        )
    reports = []

    def second_run():
        try:
            reports.append(rpps_import(path=path, batch_size=2))
        finally:
            connection.close()

    thread = threading.Thread(target=second_run)
    thread.start()
    waiting = 0
    for _ in range(200):  # until the second run waits for the lock (seen from a third session)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
            waiting = cursor.fetchone()[0]
        if waiting:
            break
        time.sleep(0.05)
    other.commit()
    other.close()
    thread.join(timeout=60)

    assert waiting == 1
    assert reports and reports[0].error == ""
    assert reports[0].professionals["created"] == 5
    assert not Professional.objects.get(rpps="10000000009").is_active  # batch by batch: ended
