"""Imports from the web: upload checks, the background job, its progress page and report,
and the search index refreshed after every import (web or command)."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.urls import reverse
from django_scopes import scopes_disabled

from parcours.audit.models import AuditEvent
from parcours.directory import imports
from parcours.directory.imports import (
    JobProgress,
    import_job_create,
    import_job_progress,
    import_job_run,
)
from parcours.directory.models import ImportJob, SearchEntry, Service, Structure
from parcours.directory.search import SearchQuery, directory_search
from parcours.territory.models import Commune

from .finess_samples import HEADER, geo_line, structure_line
from .rpps_samples import activity, write_rpps

pytestmark = pytest.mark.django_db

# Lambert-93 coordinates around Bourg-en-Bresse (the shared sample's first establishment).
X, Y = 870215.7, 6571590.5


def finess_number(serial: int) -> str:
    """A valid FINESS ET number (8 digits and the Luhn key)."""
    base = f"01{serial:06d}"
    for key in "0123456789":
        digits = [int(d) for d in base + key][::-1]
        total = sum(
            d if i % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d) for i, d in enumerate(digits)
        )
        if total % 10 == 0:
            return base + key
    raise AssertionError("unreachable")


def finess_extraction(count: int, *, bad: bool = True) -> bytes:
    """An etalab extraction (Latin-1): ``count`` establishments with their coordinates, and,
    with ``bad``, a truncated line (line 3) and an invalid FINESS number (line 5)."""
    lines = []
    for serial in range(count):
        number = finess_number(serial)
        name = f"Centre de santé Viriat {serial}"
        lines.append(structure_line(number, rs=name, rslongue=name))
    if bad:
        lines.insert(1, f"structureet;{finess_number(900_000)};CH TRONQUE")
        lines.insert(3, structure_line("123456789", rs="NUMERO FAUX"))
    lines += [geo_line(finess_number(serial), X + serial, Y + serial) for serial in range(count)]
    return ("\n".join([HEADER, *lines]) + "\n").encode("latin-1")


def upload(content: bytes, name: str = "etalab.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def viriat(db):
    return Commune.objects.create(
        insee="01451", name="Viriat", departement="01", region="84", latitude=46.25, longitude=5.2
    )


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


def job_of(org) -> ImportJob:
    with scopes_disabled():
        return ImportJob.objects.get(organisation=org)


# --- From the upload to the finished job -------------------------------------------------------


def test_an_administrator_uploads_a_finess_file_and_the_job_imports_it(
    client, alain, org_a, viriat, media
):
    client.force_login(alain)
    response = client.post(
        reverse("directory:import-create"),
        {"kind": "finess", "file": upload(finess_extraction(20))},
    )

    job = job_of(org_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("directory:import-detail", args=[job.pk])
    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.created, job.updated, job.rejected) == (20, 0, 2)
    assert job.started_by == alain and job.original_name == "etalab.csv"
    assert job.total_lines == 43 and job.done_lines == job.total_lines
    assert "ligne 3 : ligne structureet tronquée" in job.report
    assert "ligne 5 : numéro FINESS invalide « 123456789 »" in job.report
    assert job.summary.startswith("FINESS : 42 lignes lues, ") and ", 20 créées, " in job.summary
    assert Structure.objects.filter(is_active=True).count() == 20
    assert stored_files(media) == []  # imported: the upload is removed


def test_the_import_refreshes_the_search_index(client, alain, org_a, viriat):
    client.force_login(alain)
    client.post(
        reverse("directory:import-create"), {"kind": "finess", "file": upload(finess_extraction(5))}
    )

    assert SearchEntry.objects.filter(kind="structure").count() == 5
    found = directory_search(query=SearchQuery(q="centre sante viriat"))
    assert found.page.paginator.count == 5


def test_the_job_page_shows_the_counts_and_the_rejected_lines(client, alain, org_a, viriat):
    client.force_login(alain)
    client.post(
        reverse("directory:import-create"), {"kind": "finess", "file": upload(finess_extraction(3))}
    )
    job = job_of(org_a)

    page = client.get(reverse("directory:import-detail", args=[job.pk])).content.decode()

    assert "Import terminé le" in page
    assert 'data-count="created">3<' in page and 'data-count="rejected">2<' in page
    assert "ligne 3 : ligne structureet tronquée" in page
    assert "hx-trigger" not in page  # finished: no more polling
    assert reverse("directory:import-report", args=[job.pk]) in page


def test_the_report_download_lists_every_rejected_line_and_is_audited(client, alain, org_a, viriat):
    client.force_login(alain)
    client.post(
        reverse("directory:import-create"), {"kind": "finess", "file": upload(finess_extraction(3))}
    )
    job = job_of(org_a)

    response = client.get(reverse("directory:import-report", args=[job.pk]))

    assert response["Content-Disposition"].startswith("attachment;")
    lines = response.content.decode("utf-8").splitlines()
    assert lines[0].startswith("FINESS : 8 lignes lues")
    assert [line.split(" : ")[0] for line in lines[1:]] == ["ligne 3", "ligne 5"]
    with scopes_disabled():
        assert AuditEvent.objects.filter(
            action="export", object_type="directory.importjob", object_id=str(job.pk)
        ).exists()


def test_starting_an_import_is_audited_without_the_file_name(client, alain, org_a, viriat):
    client.force_login(alain)
    client.post(
        reverse("directory:import-create"),
        {"kind": "finess", "file": upload(finess_extraction(2), "Dupont Jeanne.csv")},
    )
    job = job_of(org_a)

    with scopes_disabled():
        event = AuditEvent.objects.get(action="create", object_type="directory.importjob")
    assert event.actor == alain and event.object_id == str(job.pk)
    assert event.details["kind"] == "finess"
    assert "Dupont" not in json.dumps(event.details)
    assert "Dupont" not in job.file.name  # stored under a name of our own


def test_an_rpps_file_is_imported_from_the_web(client, alain, org_a, tmp_path):
    rows = [activity("10000000001"), activity("10000000002"), activity("123")]
    content = write_rpps(tmp_path / "rpps.txt", rows).read_bytes()
    client.force_login(alain)
    client.post(
        reverse("directory:import-create"), {"kind": "rpps", "file": upload(content, "ps.txt")}
    )

    job = job_of(org_a)
    assert job.status == "done", job.error
    assert (job.created, job.rejected, job.total_lines) == (2, 1, 3)
    assert "ligne 4 : identifiant RPPS invalide « 123 »" in job.report
    assert SearchEntry.objects.filter(kind="professional").count() == 2


def test_the_page_shows_the_first_rejected_lines_of_a_long_report(client, alain, org_a):
    with scopes_disabled():
        job = ImportJob.objects.create(
            organisation=org_a,
            kind="rpps",
            file="imports/rpps.txt",
            original_name="rpps.txt",
            status="done",
            rejected=5_000,
            report="".join(f"ligne {n} : identifiant RPPS invalide\n" for n in range(2, 5_002)),
        )
    client.force_login(alain)

    page = client.get(reverse("directory:import-detail", args=[job.pk])).content.decode()

    assert page.count("identifiant RPPS invalide</li>") == 100
    assert "100 premières lignes rejetées sur 5000." in page
    report = client.get(reverse("directory:import-report", args=[job.pk])).content.decode()
    assert report.count("identifiant RPPS invalide") == 5_000


# --- Upload checks: clear French errors, nothing stored ------------------------------------------


def post_upload(client, alain, kind, content, name="fichier.csv", **extra):
    client.force_login(alain)
    return client.post(
        reverse("directory:import-create"), {"kind": kind, "file": upload(content, name), **extra}
    )


def assert_refused(response, media, message):
    assert response.status_code == 200
    assert message in response.content.decode()
    with scopes_disabled():
        assert not ImportJob.objects.exists()
    assert stored_files(media) == []


def test_an_empty_file_is_refused(client, alain, org_a, media):
    response = post_upload(client, alain, "finess", b"")
    assert_refused(response, media, "Le fichier soumis est vide.")
    with pytest.raises(ValidationError, match="Le fichier est vide."):
        import_job_create(organisation=org_a, by=alain, kind="finess", upload=upload(b""))


def test_a_file_above_the_size_limit_is_refused(client, alain, media, settings):
    settings.IMPORT_UPLOAD_MAX_MB = 1
    content = finess_extraction(3) + b"x" * (1024 * 1024)
    response = post_upload(client, alain, "finess", content)
    assert_refused(response, media, "Le fichier dépasse la taille maximale de 1 Mo.")


def test_a_file_of_another_kind_is_refused_with_what_it_looks_like(client, alain, media, tmp_path):
    rpps = write_rpps(tmp_path / "rpps.txt", [activity("10000000001")]).read_bytes()
    response = post_upload(client, alain, "finess", rpps)
    assert_refused(response, media, "Ce fichier ressemble à une extraction RPPS")


def test_a_file_of_no_known_kind_is_refused(client, alain, media):
    response = post_upload(client, alain, "rpps", "nom;prénom\nDupont;Jeanne\n".encode())
    assert_refused(response, media, "Ce fichier n&#x27;est pas une extraction RPPS")


def test_only_the_rpps_import_can_keep_to_the_territory(client, alain, media):
    response = post_upload(client, alain, "finess", finess_extraction(2), territory_only="on")
    assert_refused(response, media, "Seul l&#x27;import RPPS peut se limiter")


def test_a_territory_import_needs_a_territory(client, alain, media, tmp_path):
    rpps = write_rpps(tmp_path / "rpps.txt", [activity("10000000001")]).read_bytes()
    response = post_upload(client, alain, "rpps", rpps, territory_only="on")
    assert_refused(response, media, "pas encore de territoire")


def test_a_second_national_import_of_the_same_kind_waits_for_the_first(
    client, alain, org_a, org_b, media
):
    with scopes_disabled():
        ImportJob.objects.create(
            organisation=org_b, kind="finess", file="imports/x.csv", original_name="x.csv"
        )
    response = post_upload(client, alain, "finess", finess_extraction(2))

    assert response.status_code == 200
    assert "est déjà en attente ou en cours" in response.content.decode()
    with scopes_disabled():
        assert not ImportJob.objects.filter(organisation=org_a).exists()


def test_other_roles_cannot_upload(client, claire, media):
    client.force_login(claire)
    response = client.post(
        reverse("directory:import-create"), {"kind": "finess", "file": upload(finess_extraction(2))}
    )
    assert response.status_code == 403
    with scopes_disabled():
        assert not ImportJob.objects.exists()


# --- The job: claimed once, never left running, failures in French ------------------------------


def queued_job(org, alain, content: bytes, kind="finess", name="etalab.csv") -> ImportJob:
    """A job as the upload leaves it, without running it (the queue is a dummy here)."""
    with scopes_disabled():
        job = ImportJob(organisation=org, kind=kind, original_name=name, started_by=alain)
        job.file.save(f"{kind}-test{Path(name).suffix}", upload(content, name), save=False)
        job.save()
    return job


def refreshed(job: ImportJob) -> ImportJob:
    with scopes_disabled():
        return ImportJob.objects.get(pk=job.pk)


def test_a_failure_ends_the_job_as_failed_with_a_french_message(org_a, alain, monkeypatch):
    job = queued_job(org_a, alain, finess_extraction(2))

    def broken(job):
        raise RuntimeError("boom")

    monkeypatch.setitem(imports.RUNNERS, "finess", broken)
    assert import_job_run(job_id=job.pk) == "failed"

    job = refreshed(job)
    assert job.status == ImportJob.Status.FAILED and job.finished_at
    assert "L'import s'est arrêté sur une erreur inattendue (RuntimeError)" in job.error
    assert job.file.storage.exists(job.file.name)  # kept, to be imported again


def test_a_refused_file_ends_the_job_as_failed_with_the_importers_reason(org_a, alain, tmp_path):
    header = ["Type d'identifiant PP", "Identifiant PP", "Nom d'exercice"]
    content = write_rpps(tmp_path / "rpps.txt", [], header=header).read_bytes()
    job = queued_job(org_a, alain, content, kind="rpps", name="rpps.txt")

    assert import_job_run(job_id=job.pk) == "failed"
    assert "refusé : colonne(s) obligatoire(s) absente(s)" in refreshed(job).error


def test_a_job_runs_once(org_a, alain, viriat):
    job = queued_job(org_a, alain, finess_extraction(2))
    assert import_job_run(job_id=job.pk) == "done"

    assert import_job_run(job_id=job.pk) == "done"  # claimed already: left alone
    assert refreshed(job).created == 2


def test_a_job_running_elsewhere_is_not_run_again(org_a, alain):
    job = queued_job(org_a, alain, finess_extraction(2))
    with scopes_disabled():
        ImportJob.objects.filter(pk=job.pk).update(status="running")

    assert import_job_run(job_id=job.pk) == "running"
    assert Structure.objects.count() == 0


def test_an_hsds_json_file_loads_the_organisations_services_into_search(client, alain, org_a):
    services = [
        {"id": "s1", "name": "Point d'accès au droit", "status": "active"},
        {"id": "s2", "name": "", "status": "active"},
    ]
    response = post_upload(
        client, alain, "hsds", json.dumps(services).encode(), name="services.json"
    )

    job = job_of(org_a)
    assert response.status_code == 302
    assert job.status == "done", job.error
    assert (job.created, job.rejected) == (1, 1)
    with scopes_disabled():
        service = Service.objects.get(organisation=org_a)
    assert SearchEntry.objects.filter(kind="service", ref_id=service.pk).exists()


def test_an_hsds_zip_of_csv_tables_is_imported(client, alain, org_a):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("services.csv", "id,name,status\nz1,Accueil CCAS,active\n")
    response = post_upload(client, alain, "hsds", archive.getvalue(), name="hsds.zip")

    job = job_of(org_a)
    assert response.status_code == 302 and job.status == "done", job.error
    assert job.created == 1


def test_a_ban_file_is_imported(client, alain, org_a):
    from .test_geocoding import HEADER as BAN_HEADER
    from .test_geocoding import LINES as BAN_LINES

    content = (
        "\n".join([BAN_HEADER, *BAN_LINES, "x;;1;;Rue;69200;BAD;;;;0;0;a;b"]) + "\n"
    ).encode()
    response = post_upload(client, alain, "ban", content, name="adresses-69.csv")

    job = job_of(org_a)
    assert response.status_code == 302 and job.status == "done", job.error
    assert (job.created, job.rejected, job.total_lines) == (3, 1, 4)


# --- Progress ----------------------------------------------------------------------------------


def test_the_progress_is_written_on_the_job_about_once_a_second(org_a, alain):
    job = queued_job(org_a, alain, finess_extraction(2))
    progress = JobProgress(job_id=job.pk, total=1000, every=60)

    progress.update(10)  # the first update is written
    progress.update(500)  # too soon: skipped
    assert refreshed(job).done_lines == 10
    progress.close(1000)  # the last one always

    job = refreshed(job)
    assert (job.total_lines, job.done_lines) == (1000, 1000)
    assert job.rows_per_second > 0


def test_the_progress_shows_percent_rate_and_time_left(org_a, alain):
    job = queued_job(org_a, alain, finess_extraction(2))
    job.status, job.total_lines, job.done_lines, job.rows_per_second = "running", 10_000, 2_500, 50
    shown = import_job_progress(job)
    assert (shown.percent, shown.seconds_left, shown.time_left) == (25, 150, "2 min 30 s")
    assert not shown.finishing
    job.done_lines = 10_000
    assert import_job_progress(job).finishing  # read: deactivations and search index follow


def test_the_fragment_polls_while_the_job_runs(client, alain, org_a):
    job = queued_job(org_a, alain, finess_extraction(2))
    with scopes_disabled():
        ImportJob.objects.filter(pk=job.pk).update(
            status="running", total_lines=20_000, done_lines=5_000, rows_per_second=1_000
        )
    client.force_login(alain)

    fragment = client.get(reverse("directory:import-progress", args=[job.pk])).content.decode()

    assert 'hx-trigger="every 1s"' in fragment and 'data-status="running"' in fragment
    assert 'value="25"' in fragment and "25 %" in fragment
    assert "lignes/s" in fragment and "reste environ 15 s" in fragment
    assert "<html" not in fragment  # a fragment, not a page


def test_the_list_shows_the_organisations_jobs(client, alain, org_a):
    queued_job(org_a, alain, finess_extraction(2))
    client.force_login(alain)
    page = client.get(reverse("directory:import-list")).content.decode()
    assert "etalab.csv" in page and "En attente" in page


# --- The real queue: the database backend and its worker ----------------------------------------


# The worker commits and closes connections as in production: a transactional test.
@pytest.mark.django_db(transaction=True)
def test_the_database_queue_runs_the_job_in_the_worker(client, alain, org_a, viriat, settings):
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client.force_login(alain)
    client.post(
        reverse("directory:import-create"), {"kind": "finess", "file": upload(finess_extraction(4))}
    )
    assert job_of(org_a).status == "queued"
    assert DBTaskResult.objects.get().task_path.endswith("tasks.import_job_execute")

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    worker.run()

    job = job_of(org_a)
    assert job.status == "done" and job.created == 4
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


# --- The commands refresh the search index too --------------------------------------------------


def test_the_finess_command_refreshes_the_search_index(tmp_path, viriat):
    path = tmp_path / "etalab.csv"
    path.write_bytes(finess_extraction(3))
    out = io.StringIO()

    call_command("import_finess", str(path), "--report", str(tmp_path / "r.txt"), stdout=out)

    assert SearchEntry.objects.filter(kind="structure").count() == 3
    assert "Index de recherche reconstruit (structure : 3 entrées)" in out.getvalue()


def test_the_rpps_command_refreshes_the_search_index(tmp_path):
    path = write_rpps(tmp_path / "rpps.txt", [activity("10000000001")])
    out = io.StringIO()

    call_command(
        "import_rpps", str(path), "--report", str(tmp_path / "r.txt"), stdout=out, stderr=out
    )

    assert SearchEntry.objects.filter(kind="professional").count() == 1
    assert "Index de recherche reconstruit (professionnel : 1 entrées" in out.getvalue()


def test_the_hsds_command_refreshes_the_organisations_services(tmp_path, org_a):
    path = tmp_path / "services.json"
    path.write_text(json.dumps([{"id": "c1", "name": "CCAS", "status": "active"}]))

    call_command("import_hsds", str(path), "--organisation", org_a.slug, stdout=io.StringIO())

    assert SearchEntry.objects.filter(kind="service", organisation=org_a).count() == 1


def test_an_import_that_changes_nothing_leaves_the_index_alone(tmp_path, viriat):
    path = tmp_path / "etalab.csv"
    path.write_bytes(finess_extraction(2))
    call_command(
        "import_finess", str(path), "--report", str(tmp_path / "1.txt"), stdout=io.StringIO()
    )
    out = io.StringIO()

    call_command("import_finess", str(path), "--report", str(tmp_path / "2.txt"), stdout=out)

    assert "Index de recherche : rien à mettre à jour." in out.getvalue()


# --- A first load (PostgreSQL: one transaction) shows its progress all the same -----------------


@pytest.mark.django_db(transaction=True)
def test_a_first_load_from_the_web_shows_its_progress_while_it_runs(
    tmp_path, org_a, alain, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's first load")
    path = write_rpps(tmp_path / "rpps.txt", [activity(f"1000000000{n}") for n in range(1, 6)])
    job = queued_job(org_a, alain, path.read_bytes(), kind="rpps", name="rpps.txt")
    seen = []
    write = imports.JobProgress.update

    def watched(self, done, *, force=False):
        write(self, done, force=True)
        other = connections.create_connection(DEFAULT_DB_ALIAS)  # as the job's page would
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT done_lines FROM directory_importjob WHERE id = %s", [job.pk])
                seen.append((connection.in_atomic_block, cursor.fetchone()[0]))
        finally:
            other.close()

    monkeypatch.setattr(imports.JobProgress, "update", watched)

    assert import_job_run(job_id=job.pk) == "done"

    assert (True, 5) in seen  # written while the load's transaction was open, and seen
    job = refreshed(job)
    assert (job.created, job.done_lines) == (5, 5)
