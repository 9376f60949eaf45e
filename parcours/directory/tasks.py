"""Background jobs of the directory (run by ``manage.py db_worker``)."""

from django_tasks import task

from .imports import import_job_run


@task()
def import_job_execute(job_id: int) -> str:
    """Run an import started from the web; its progress and outcome go on the job's row."""
    return import_job_run(job_id=job_id)


@task()
def survey_send_pending_job(survey_id: int) -> int:
    """Send the first message of an availability survey to the GPs who have not had it."""
    from .survey import survey_send_pending

    return survey_send_pending(survey_id=survey_id)


@task()
def survey_reminders_job() -> int:
    """Periodic: reminders of open availability surveys (and first messages still unsent)."""
    from .survey import survey_remind_due

    return survey_remind_due()
