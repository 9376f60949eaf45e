"""The periodic jobs and the scheduler that enqueues them when due.

A job is enqueued once per slot (slot = UTC seconds // interval). Run one or several
``manage.py run_scheduler`` processes; workers (``manage.py db_worker``) execute the jobs.
Later modules add their jobs (escalations, reminders, retention purge) to PERIODIC_JOBS.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks.base import Task

from parcours.directory import tasks as directory_tasks
from parcours.matching import tasks as matching_tasks
from parcours.saisines import tasks as saisines_tasks

from . import tasks
from .models import ScheduledRun


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: int
    task: Task


PERIODIC_JOBS: list[PeriodicJob] = [
    PeriodicJob("sessions_purge_expired", 3600, tasks.sessions_purge_expired),
    PeriodicJob("audit_chain_check", 24 * 3600, tasks.audit_chain_check),
    PeriodicJob("directory_survey_reminders", 3600, directory_tasks.survey_reminders_job),
    PeriodicJob("saisines_orientation_reminders", 3600, saisines_tasks.orientation_reminders_job),
    PeriodicJob("matching_escalation", 3600, matching_tasks.escalation_job),
]


def jobs_enqueue_due(*, now=None, jobs: list[PeriodicJob] | None = None) -> list[str]:
    """Enqueue every job whose current slot has no run yet; return the names enqueued."""
    now = now or timezone.now()
    enqueued = []
    for job in PERIODIC_JOBS if jobs is None else jobs:
        slot = int(now.timestamp()) // job.every_seconds
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(job=job.name, slot=slot)
                result = job.task.enqueue()
                ScheduledRun.objects.filter(pk=run.pk).update(task_result_id=str(result.id))
        except IntegrityError:
            continue  # already enqueued for this slot
        enqueued.append(job.name)
    return enqueued
