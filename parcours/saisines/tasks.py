"""Background jobs of the single entry point (run by ``manage.py db_worker``)."""

from django_tasks import task


@task()
def orientation_reminders_job() -> dict:
    """Periodic: remind orientations left unanswered, then flag them "no answer"."""
    from .services import orientations_remind_due

    return orientations_remind_due()
