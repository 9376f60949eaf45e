"""Background jobs of the médecin traitant search (safe to run twice)."""

from django_tasks import task

from . import services


@task()
def escalation_job() -> dict:
    """Move searches without an acceptance to their next stage (see services)."""
    return services.searches_escalate_due()
