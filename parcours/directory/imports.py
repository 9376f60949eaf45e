"""Imports started from the web: the upload, checked, then the background job that runs it.

``import_job_create`` checks an uploaded file (size, empty, the layout of the kind chosen),
stores it under ``MEDIA_ROOT`` (never served), records who started it and enqueues
``tasks.import_job_execute``. The worker calls ``import_job_run``, which claims the job with a
conditional update, runs the same importer as the management command, writes its progress
on the job's row about once a second (``JobProgress``), then the counts, the summary and the
rejected lines. Whatever happens the job ends ``done`` or ``failed`` (with a French message),
never left ``running`` by an exception.

After any import, from the web or a command, ``import_search_refresh`` rebuilds the search
entries of what the import may have changed, once, at the end.
"""

import gzip
import io
import logging
import tempfile
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.functions import Substr
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from parcours.accounts.models import Organisation, User
from parcours.audit.models import Action
from parcours.audit.services import audit_log
from parcours.territory.models import Territory

from .finess import FinessFileError, finess_import
from .geocoding import ban_import
from .hsds import hsds_import_services
from .importing import ImportReport, Progress, count_lines
from .models import ImportJob, SearchEntry, Service
from .rpps import rpps_import
from .search import search_index_refresh, search_index_refresh_kinds

logger = logging.getLogger(__name__)

Kind, Status = ImportJob.Kind, ImportJob.Status
NATIONAL_KINDS = (Kind.RPPS, Kind.FINESS, Kind.BAN)
PROGRESS_EVERY = 1.0  # seconds between two writes of the progress on the job's row
HEAD_BYTES = 64 * 1024  # what the upload check reads of a file
# A job queued or running for longer than this is taken as abandoned (its worker stopped):
# it no longer prevents a new import of the same kind.
STALE_AFTER = timedelta(hours=6)
ZIP_EXPANSION_LIMIT = 20  # an HSDS zip may hold at most this many times its size in tables
REJECTIONS_SHOWN = 100  # rejected lines shown on the job's page (all are in the download)
REPORT_HEAD_CHARS = 40_000


# --- Reads --------------------------------------------------------------------------------------


def import_job_list(*, organisation: Organisation) -> QuerySet[ImportJob]:
    """The organisation's imports, latest first (without the rejected lines' text)."""
    return (
        ImportJob.objects.filter(organisation=organisation)
        .select_related("started_by")
        .defer("report")
    )


def import_job_get(
    *, organisation: Organisation, job_id: int, with_report: bool = False
) -> ImportJob:
    """One import of the organisation; another organisation's answers 404.

    The rejected lines can be many (a national file): unless ``with_report``, only their
    beginning is read (``report_head``), for the page to show the first ones.
    """
    jobs = ImportJob.objects.filter(organisation=organisation).select_related("started_by")
    if not with_report:
        jobs = jobs.defer("report").annotate(report_head=Substr("report", 1, REPORT_HEAD_CHARS))
    try:
        return jobs.get(pk=job_id)
    except ImportJob.DoesNotExist:
        raise Http404 from None


def import_job_rejections_shown(job: ImportJob) -> list[str]:
    """The first rejected lines of a job, as the page shows them."""
    head = getattr(job, "report_head", None)
    text = job.report if head is None else head
    lines = text.splitlines()
    if head is not None and len(head) >= REPORT_HEAD_CHARS and not text.endswith("\n"):
        lines = lines[:-1]  # cut in the middle
    return lines[:REJECTIONS_SHOWN]


@dataclass(frozen=True)
class JobProgressView:
    """What the progress bar shows: percent, rows/s and time left (when they are known)."""

    percent: int | None
    rows_per_second: float
    seconds_left: int | None
    finishing: bool = False  # every line read: deactivations and the search index follow

    @property
    def time_left(self) -> str:
        if self.seconds_left is None:
            return ""
        if self.seconds_left < 1:
            return _("moins d'une seconde")
        minutes, seconds = divmod(self.seconds_left, 60)
        if minutes >= 60:
            return _("%(h)d h %(m)02d min") % {"h": minutes // 60, "m": minutes % 60}
        if minutes:
            return _("%(m)d min %(s)02d s") % {"m": minutes, "s": seconds}
        return _("%(s)d s") % {"s": seconds}


def import_job_progress(job: ImportJob) -> JobProgressView:
    if job.status == Status.DONE:
        return JobProgressView(100, job.rows_per_second, 0)
    if not job.total_lines:
        return JobProgressView(
            None if job.status == Status.RUNNING else 0, job.rows_per_second, None
        )
    done = min(job.done_lines, job.total_lines)
    left = None
    if job.rows_per_second > 0:
        left = round((job.total_lines - done) / job.rows_per_second)
    finishing = job.status == Status.RUNNING and done >= job.total_lines
    return JobProgressView(100 * done // job.total_lines, job.rows_per_second, left, finishing)


# --- Starting an import -------------------------------------------------------------------------


EXPECTED = {
    Kind.RPPS: "une extraction RPPS « PS_LibreAcces_Personne_activite » (une ligne d'en-tête "
    "avec « Identifiant PP », colonnes séparées par « | »)",
    Kind.FINESS: "une extraction FINESS etalab (première ligne « finess;etalab;… »)",
    Kind.BAN: "un fichier de la Base Adresse Nationale adresses-XX.csv ou .csv.gz "
    "(colonnes id, numero, nom_voie, code_insee, lon, lat…)",
    Kind.HSDS: "un fichier de services HSDS 3 : JSON, ou zip des tables CSV avec services.csv",
}


def import_upload_max_bytes() -> int:
    return settings.IMPORT_UPLOAD_MAX_MB * 1024 * 1024


def import_job_create(
    *,
    organisation: Organisation,
    by: User,
    kind: str,
    upload: UploadedFile | None,
    territory_only: bool = False,
    request=None,
) -> ImportJob:
    """Check and store the uploaded file, record the job, and queue it for the worker.

    Raises ``ValidationError`` (by field: ``kind``, ``file``, ``territory_only``) with a
    message in French; nothing is stored then.
    """
    suffix = _upload_check(kind=kind, upload=upload)
    if territory_only:
        _territory_check(kind=kind, organisation=organisation)
    _not_already_running(kind=kind, organisation=organisation)
    job = ImportJob(
        organisation=organisation,
        kind=kind,
        territory_only=territory_only,
        original_name=Path(upload.name or "").name[:255],
        started_by=by,
    )
    # A name of our own: the uploaded one may say anything (it is kept in original_name).
    job.file.save(f"{kind}-{uuid.uuid4().hex}{suffix}", upload, save=False)
    job.save()
    audit_log(
        action=Action.CREATE,
        request=request,
        actor=by,
        organisation=organisation,
        obj=job,
        details={"kind": kind, "territory_only": territory_only, "bytes": upload.size},
    )
    _enqueue(job)
    return job


def _enqueue(job: ImportJob) -> None:
    from .tasks import import_job_execute  # the task module imports this one

    try:
        import_job_execute.enqueue(job_id=job.pk)
    except Exception as error:  # the queue is unreachable: say so on the job, keep the file
        logger.error("import job %s could not be queued: %s", job.pk, type(error).__name__)
        with scopes_disabled():
            ImportJob.objects.filter(pk=job.pk, status=Status.QUEUED).update(
                status=Status.FAILED,
                finished_at=timezone.now(),
                error=_("L'import n'a pas pu être mis en file d'attente. Réessayez plus tard."),
            )


def _upload_check(*, kind: str, upload: UploadedFile | None) -> str:
    """The suffix to store the file with; ``ValidationError`` when it cannot be imported."""
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Choisissez le type de fichier à importer.")})
    if upload is None:
        raise ValidationError({"file": _("Choisissez le fichier à importer.")})
    if not upload.size:
        raise ValidationError({"file": _("Le fichier est vide.")})
    limit = settings.IMPORT_UPLOAD_MAX_MB
    if upload.size > import_upload_max_bytes():
        raise ValidationError(
            {"file": _("Le fichier dépasse la taille maximale de %(limit)s Mo.") % {"limit": limit}}
        )
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    found, suffix = _sniff(head, upload)
    if found != kind:
        expected = EXPECTED[Kind(kind)]
        if found is None:
            message = _("Ce fichier n'est pas %(expected)s.") % {"expected": expected}
        else:
            message = _(
                "Ce fichier ressemble à %(found)s, pas à %(expected)s : vérifiez le type "
                "de fichier choisi."
            ) % {"found": EXPECTED[Kind(found)], "expected": expected}
        raise ValidationError({"file": message})
    return suffix


def _sniff(head: bytes, upload) -> tuple[str | None, str]:
    """The kind of file the first bytes show, and the suffix to store it with."""
    if head.startswith(b"\x1f\x8b"):
        try:
            text = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, HEAD_BYTES)
        except zlib.error:
            return None, ""
        return (Kind.BAN if _first_line_kind(text) == Kind.BAN else None), ".csv.gz"
    if head.startswith(b"PK\x03\x04"):
        return (Kind.HSDS if _zip_has_services(upload) else None), ".zip"
    kind = _first_line_kind(head)
    return kind, {Kind.HSDS: ".json", Kind.RPPS: ".txt"}.get(kind, ".csv")


def _first_line_kind(head: bytes) -> str | None:
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    first = text.split("\n", 1)[0].strip()
    if first.lower().startswith("finess;etalab"):
        return Kind.FINESS
    if "|" in first and "Identifiant PP" in first:
        return Kind.RPPS
    if {"id", "code_insee", "lon", "lat"} <= {name.strip() for name in first.split(";")}:
        return Kind.BAN
    if text.lstrip()[:1] in ("[", "{"):
        return Kind.HSDS
    return None


def _zip_has_services(upload) -> bool:
    try:
        with zipfile.ZipFile(upload) as archive:
            names = {PurePosixPath(name).name for name in archive.namelist()}
    except (zipfile.BadZipFile, OSError):
        return False
    finally:
        upload.seek(0)
    return "services.csv" in names


def _territory_check(*, kind: str, organisation: Organisation) -> None:
    if kind != Kind.RPPS:
        raise ValidationError(
            {"territory_only": _("Seul l'import RPPS peut se limiter aux communes du territoire.")}
        )
    with scopes_disabled():
        has_territory = Territory.objects.filter(organisation=organisation).exists()
    if not has_territory:
        raise ValidationError(
            {
                "territory_only": _(
                    "Votre organisation n'a pas encore de territoire : définissez-le d'abord, "
                    "ou importez le fichier entier."
                )
            }
        )


def _not_already_running(*, kind: str, organisation: Organisation) -> None:
    """One import of a national file at a time on the instance; of services, per organisation."""
    with scopes_disabled():
        active = ImportJob.objects.filter(
            kind=kind,
            status__in=(Status.QUEUED, Status.RUNNING),
            created_at__gte=timezone.now() - STALE_AFTER,
        )
        if kind not in NATIONAL_KINDS:
            active = active.filter(organisation=organisation)
        busy = active.exists()
    if busy:
        raise ValidationError(
            {
                "kind": _(
                    "Un import « %(kind)s » est déjà en attente ou en cours : attendez qu'il "
                    "se termine avant d'en lancer un autre."
                )
                % {"kind": Kind(kind).label}
            }
        )


# --- Running an import (in the worker) ------------------------------------------------------------


class JobProgress(Progress):
    """The importers' progress, written on the job's row about once a second (no stream)."""

    stored = True

    def __init__(self, *, job_id: int, total: int | None = None, every: float | None = None):
        super().__init__(total=total, stream=io.StringIO(), every=every or PROGRESS_EVERY)
        self.job_id = job_id
        self.aside = None  # the connection of its own, when the import is one transaction

    def update(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return
        self.last = now
        elapsed = now - self.started
        values = {
            "total_lines": self.total,
            "done_lines": max(done, 0),
            "rows_per_second": done / elapsed if elapsed > 0 else 0.0,
        }
        if self.in_transaction and self._write_aside(values):
            return
        with scopes_disabled():
            ImportJob.objects.filter(pk=self.job_id).update(**values)

    def _write_aside(self, values: dict) -> bool:
        """Through a connection of its own (committed at once), so that the page following
        the job sees the progress while the import's transaction runs. False when that
        connection does not see the job (created in the import's own transaction: a test)."""
        if self.aside is None:
            self.aside = connections.create_connection(DEFAULT_DB_ALIAS)
        quote = self.aside.ops.quote_name
        columns = ", ".join(
            f"{quote(ImportJob._meta.get_field(name).column)} = %s" for name in values
        )
        with self.aside.cursor() as cursor:
            cursor.execute(
                f"UPDATE {quote(ImportJob._meta.db_table)} SET {columns} WHERE id = %s",  # noqa: S608
                [*values.values(), self.job_id],
            )
            return cursor.rowcount > 0

    def close(self, done: int) -> None:
        self.update(done, force=True)
        self.release()

    def release(self) -> None:
        """Close the connection of its own, if any (also when the import stopped early)."""
        if self.aside is not None:
            self.aside.close()
            self.aside = None


@dataclass
class ImportOutcome:
    report: ImportReport
    error: str = ""  # set when the file was refused or the import stopped


def import_job_run(*, job_id: int) -> str:
    """Run a queued job; its final status. A job already claimed or finished is left alone."""
    with scopes_disabled():
        claimed = ImportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
            status=Status.RUNNING, started_at=timezone.now()
        )
        if not claimed:
            return (
                ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first() or ""
            )
        job = ImportJob.objects.select_related("organisation").get(pk=job_id)
    try:
        outcome = RUNNERS[job.kind](job)
    except Exception as error:
        # Batches already applied stay applied (each is all or nothing): refresh what they
        # may have changed; a new run of the same file completes the import.
        logger.error("import job %s stopped: %s", job.pk, type(error).__name__)
        _search_refresh_quietly(job)
        return _finish(
            job,
            status=Status.FAILED,
            error=_(
                "L'import s'est arrêté sur une erreur inattendue (%(error)s). Les lots déjà "
                "enregistrés le restent ; déposez de nouveau le fichier pour terminer l'import, "
                "sans doublon."
            )
            % {"error": type(error).__name__},
        )
    return _record(job, outcome)


def _record(job: ImportJob, outcome: ImportOutcome) -> str:
    report = outcome.report
    with scopes_disabled():
        ImportJob.objects.filter(pk=job.pk).update(
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            deactivated=report.deactivated,
            rejected=len(report.rejected),
            rows_per_second=report.rows_per_second,
            summary=report.summary(),
            report="".join(f"ligne {r.line} : {r.reason}\n" for r in report.rejected),
        )
    try:
        import_search_refresh(kind=job.kind, report=report, organisation=job.organisation)
    except Exception as error:
        logger.error("import job %s: search index refresh failed: %s", job.pk, type(error).__name__)
        return _finish(
            job,
            status=Status.FAILED,
            error=_(
                "Les données sont importées, mais l'index de recherche n'a pas pu être mis à "
                "jour (%(error)s) : relancez l'import pour la reconstruire."
            )
            % {"error": type(error).__name__},
        )
    if outcome.error:
        return _finish(job, status=Status.FAILED, error=outcome.error)
    job.file.storage.delete(job.file.name)  # imported: the upload is no longer needed
    return _finish(job, status=Status.DONE)


def _finish(job: ImportJob, *, status: str, error: str = "") -> str:
    with scopes_disabled():
        ImportJob.objects.filter(pk=job.pk).update(
            status=status, finished_at=timezone.now(), error=error
        )
    return status


# Each runner calls the importer as its management command does.


def _run_rpps(job: ImportJob) -> ImportOutcome:
    progress = JobProgress(job_id=job.pk)
    try:
        report = rpps_import(
            path=Path(job.file.path),
            organisation=job.organisation if job.territory_only else None,
            progress=progress,
        )
    finally:
        progress.release()
    return ImportOutcome(report, report.error)


def _run_finess(job: ImportJob) -> ImportOutcome:
    path = Path(job.file.path)
    try:
        report = finess_import(
            path=path, progress=JobProgress(job_id=job.pk, total=count_lines(path))
        )
    except FinessFileError as error:
        return ImportOutcome(ImportReport(source="FINESS"), str(error))
    return ImportOutcome(report)


def _run_ban(job: ImportJob) -> ImportOutcome:
    path = Path(job.file.path)
    total = _count_data_lines(path)
    report = ban_import(path=path, progress=JobProgress(job_id=job.pk, total=total))
    return ImportOutcome(report, _refused(report))


def _run_hsds(job: ImportJob) -> ImportOutcome:
    path = Path(job.file.path)
    if path.suffix != ".zip":
        report = hsds_import_services(organisation=job.organisation, path=path)
        return ImportOutcome(report, _refused(report))
    with tempfile.TemporaryDirectory(prefix="parcours-hsds-") as directory:
        error = _unzip_tables(path, Path(directory))
        if error:
            return ImportOutcome(ImportReport(source="HSDS"), error)
        report = hsds_import_services(organisation=job.organisation, path=Path(directory))
    return ImportOutcome(report, _refused(report))


RUNNERS: dict[str, Callable[[ImportJob], ImportOutcome]] = {
    Kind.RPPS: _run_rpps,
    Kind.FINESS: _run_finess,
    Kind.BAN: _run_ban,
    Kind.HSDS: _run_hsds,
}


def _refused(report: ImportReport) -> str:
    """The reason a whole file was refused, else ''. The BAN and HSDS importers report it as
    a rejection of line 0 (unreadable file, wrong encoding) or of line 1 with nothing read
    (the header lacks columns)."""
    for rejection in report.rejected:
        if rejection.line == 0 or (rejection.line == 1 and report.read == 0):
            return _("Fichier refusé : %(reason)s.") % {"reason": rejection.reason}
    return ""


def _count_data_lines(path: Path) -> int:
    if path.suffix != ".gz":
        return max(count_lines(path) - 1, 0)
    try:
        with gzip.open(path, "rb") as handle:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except (OSError, EOFError, zlib.error):
        return 0
    return max(lines - 1, 0)


def _unzip_tables(archive_path: Path, directory: Path) -> str:
    """Extract the CSV tables of an HSDS zip (flat names only); an error message, or ''."""
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = [m for m in archive.infolist() if m.filename.lower().endswith(".csv")]
            size = sum(member.file_size for member in members)
            if size > ZIP_EXPANSION_LIMIT * max(archive_path.stat().st_size, 1):
                return _("Fichier refusé : le zip décompressé serait anormalement volumineux.")
            for member in members:
                name = PurePosixPath(member.filename).name
                (directory / name).write_bytes(archive.read(member))
    except (zipfile.BadZipFile, OSError, zlib.error) as error:
        return _("Fichier refusé : zip illisible (%(error)s).") % {"error": type(error).__name__}
    return ""


# --- The search index after an import ------------------------------------------------------------


def import_search_refresh(
    *, kind: str, report: ImportReport, organisation: Organisation | None = None
) -> dict[str, int]:
    """Rebuild, once at the end of an import, the search entries of what it may have changed.

    The importers write in bulk and do not list the rows they changed, so a national import
    that changed anything rebuilds its whole kind; services are rebuilt for the importing
    organisation only. The BAN import changes no entry (it only feeds the geocoder).
    Entries per kind rebuilt are returned.
    """
    refreshed: dict[str, int] = {}
    if kind == Kind.RPPS:
        people = getattr(report, "professionals", {})
        structures = getattr(report, "structures", {})
        kinds = []
        if _changed(report) or any(people.get(k) for k in ("created", "updated", "deactivated")):
            kinds.append(SearchEntry.Kind.PROFESSIONAL)
        if any(structures.get(k) for k in ("created", "updated")):
            kinds.append(SearchEntry.Kind.STRUCTURE)
        refreshed = search_index_refresh_kinds(kinds)
    elif kind == Kind.FINESS and _changed(report):
        refreshed["structure"] = search_index_refresh(kind=SearchEntry.Kind.STRUCTURE)
    elif kind == Kind.HSDS and _changed(report) and organisation is not None:
        ids = Service.objects.with_scopes_disabled().filter(organisation=organisation)
        refreshed["service"] = search_index_refresh(
            kind=SearchEntry.Kind.SERVICE, ids=ids.values_list("pk", flat=True)
        )
    return refreshed


def search_refreshed_line(refreshed: dict[str, int]) -> str:
    """What the commands print about the search index."""
    if not refreshed:
        return "Index de recherche : rien à mettre à jour."
    parts = " ; ".join(
        f"{SearchEntry.Kind(kind).label.lower()} : {count} entrées"
        for kind, count in refreshed.items()
    )
    return f"Index de recherche reconstruit ({parts})."


def _changed(report: ImportReport) -> bool:
    return bool(report.created or report.updated or report.deactivated)


def _search_refresh_quietly(job: ImportJob) -> None:
    """After an import that stopped: rebuild the kinds it may have touched, if possible."""
    kinds = {
        Kind.RPPS: (SearchEntry.Kind.PROFESSIONAL, SearchEntry.Kind.STRUCTURE),
        Kind.FINESS: (SearchEntry.Kind.STRUCTURE,),
    }.get(job.kind, ())
    try:
        search_index_refresh_kinds(kinds)
        if job.kind == Kind.HSDS:
            import_search_refresh(
                kind=job.kind,
                report=ImportReport(source="", created=1),
                organisation=job.organisation,
            )
    except Exception as error:
        logger.error("import job %s: search index refresh failed: %s", job.pk, type(error).__name__)
