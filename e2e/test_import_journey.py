"""An administrator uploads a FINESS file and watches the background import progress.

How the job runs here, for real and reliably on both engines:

- The upload goes through the database queue (``django_tasks_db.DatabaseBackend``, as in
  production; the test settings' immediate backend would run the import inside the upload
  request and there would be nothing to watch).
- The worker is django-tasks-db's own ``Worker`` loop, the code behind ``manage.py
  db_worker``, run in a thread of the test process rather than as a subprocess: on SQLite
  pytest-django's test database lives in memory, inside this process, where no other
  process can open it.
- On SQLite the live server's threads all use the test's one in-memory connection
  (pytest-django hands it to them), and the worker thread must use it too; one connection
  must never serve two threads at once, so the worker and the live server take turns: a
  lock wraps the live server's WSGI application and the worker holds it while it works. On
  PostgreSQL each thread has its own connection and the lock only makes them take turns.
- A few hundred lines import in a fraction of a second: to see the job running, the import
  pauses once half-way (after writing its progress, between two lines, outside any
  transaction), releases the lock, and goes on when the test has seen the progress bar.
"""

import re
import threading

import pytest
from django.db import connections
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from e2e.test_foundation_journeys import log_in
from parcours.directory import imports
from parcours.directory.imports import JobProgress
from parcours.directory.models import ImportJob, SearchEntry
from parcours.directory.tests.test_import_jobs import finess_extraction
from parcours.territory.models import Commune

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ESTABLISHMENTS = 300


class TakingTurns:
    """The lock the live server's requests and the worker share (see the module docstring)."""

    def __init__(self, live_server):
        self.lock = threading.Lock()
        self.httpd = live_server.thread.httpd
        self.app = self.httpd.get_app()
        self.shared_connections = live_server.thread.connections_override

    def __enter__(self):
        self.httpd.set_app(self.locked)
        return self

    def __exit__(self, *exc):
        self.httpd.set_app(self.app)

    def locked(self, environ, start_response):
        with self.lock:
            result = self.app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()  # request_finished runs here, under the lock too
        return [body]


class Worker(threading.Thread):
    """``manage.py db_worker --batch``'s loop, in a thread, pausing the import half-way."""

    def __init__(self, turns: TakingTurns):
        super().__init__(daemon=True)
        self.turns = turns
        self.paused, self.resume = threading.Event(), threading.Event()
        self.error: BaseException | None = None

    def run(self):
        from django_tasks_db.management.commands.db_worker import Worker as DbWorker

        for alias, connection in self.turns.shared_connections.items():
            connections[alias] = connection
        try:
            with self.turns.lock:
                DbWorker(
                    queue_names=["*"],
                    interval=0,
                    batch=True,
                    backend_name="default",
                    startup_delay=False,
                    max_tasks=1,
                    worker_id="e2e-worker",
                    excluded_queue_names=[],
                ).run()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error
        finally:
            if not self.turns.shared_connections:
                connections.close_all()

    def pause_half_way(self, progress: JobProgress, done: int) -> None:
        if self.paused.is_set() or not progress.total or done < progress.total // 2:
            return
        self.paused.set()
        self.turns.lock.release()  # the live server answers while the import waits
        try:
            self.resume.wait(timeout=60)
        finally:
            self.turns.lock.acquire()


@pytest.fixture
def viriat():
    return Commune.objects.create(
        insee="01451", name="Viriat", departement="01", region="84", latitude=46.25, longitude=5.2
    )


def test_administrator_uploads_a_finess_file_and_watches_its_progress(
    page, alain, viriat, live_server, settings, monkeypatch, tmp_path
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.MEDIA_ROOT = tmp_path / "media"
    extraction = tmp_path / "etalab_cs1100507_stock.csv"
    extraction.write_bytes(finess_extraction(ESTABLISHMENTS))  # + 2 bad lines: 3 and 5

    log_in(page, alain, second_factor=True)
    page.get_by_role("navigation").get_by_role("button", name="Administration").click()
    page.get_by_role("navigation").get_by_role("link", name="Imports").click()
    page.get_by_role("link", name="Importer un fichier").click()
    page.get_by_label("Type de fichier").select_option(label="FINESS (établissements)")
    page.get_by_label(re.compile("^Fichier")).set_input_files(extraction)
    page.get_by_role("button", name="Déposer et importer").click()

    progress = page.locator("#import-progress")
    expect(page.get_by_text("Le fichier est déposé ; l'import va commencer.")).to_be_visible()
    expect(progress).to_have_attribute("data-status", "queued")  # no worker yet
    expect(progress).to_contain_text("En attente")

    with TakingTurns(live_server) as turns:
        worker = Worker(turns)
        original_update = JobProgress.update

        def update(self, done, *, force=False):
            original_update(self, done, force=force)
            worker.pause_half_way(self, done)

        monkeypatch.setattr(JobProgress, "update", update)
        monkeypatch.setattr(imports, "PROGRESS_EVERY", 0.0)  # write every line's progress
        worker.start()
        try:
            assert worker.paused.wait(timeout=30), f"the import did not start: {worker.error}"
            # The page polls every second: it now shows the job running, half-way.
            expect(progress).to_have_attribute("data-status", "running")
            expect(progress).to_contain_text("En cours")
            expect(progress).to_contain_text(re.compile(r"\d+ %"))
            expect(progress).to_contain_text(re.compile(r"\d+ lignes traitées sur \d+"))
            expect(progress).to_contain_text("lignes/s")
            assert int(progress.locator("progress").get_attribute("value")) > 0
        finally:
            worker.resume.set()
            worker.join(timeout=60)
    assert worker.error is None, worker.error

    expect(progress).to_have_attribute("data-status", "done", timeout=15_000)
    expect(progress.get_by_text(re.compile("Import terminé le"))).to_be_visible()
    expect(progress.locator('[data-count="created"]')).to_have_text(str(ESTABLISHMENTS))
    expect(progress.locator('[data-count="rejected"]')).to_have_text("2")
    rejections = progress.locator("#import-rejections li")
    expect(rejections).to_have_count(2)
    expect(rejections.first).to_have_text(re.compile(r"^ligne 3 : ligne structureet tronquée"))
    expect(rejections.last).to_have_text("ligne 5 : numéro FINESS invalide « 123456789 »")

    with page.expect_download() as download:
        progress.get_by_role("link", name="Télécharger le rapport des lignes rejetées").click()
    report = download.value.path().read_text(encoding="utf-8")
    assert "ligne 3 : ligne structureet tronquée" in report
    assert "ligne 5 : numéro FINESS invalide" in report

    with scopes_disabled():
        job = ImportJob.objects.get()
    assert (job.status, job.created, job.rejected) == ("done", ESTABLISHMENTS, 2)
    assert SearchEntry.objects.filter(kind="structure").count() == ESTABLISHMENTS
