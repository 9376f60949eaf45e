from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from parcours.core.models import ScheduledRun
from parcours.core.scheduler import PERIODIC_JOBS, jobs_enqueue_due

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_it_enqueues_every_periodic_job_once_per_period():
    first = jobs_enqueue_due(now=NOON)
    assert sorted(first) == sorted(job.name for job in PERIODIC_JOBS)
    assert jobs_enqueue_due(now=NOON + timedelta(seconds=30)) == []
    assert ScheduledRun.objects.count() == len(PERIODIC_JOBS)


def test_it_enqueues_again_in_the_next_period():
    jobs_enqueue_due(now=NOON)
    again = jobs_enqueue_due(now=NOON + timedelta(hours=1))
    assert "sessions_purge_expired" in again
    assert "audit_chain_check" not in again


def test_the_command_runs_once_and_the_jobs_run(capsys):
    call_command("run_scheduler", "--once")
    assert "enqueued audit_chain_check" in capsys.readouterr().out
