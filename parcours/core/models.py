from django.db import models
from django.utils import timezone


class ScheduledRun(models.Model):
    """One enqueued run of a periodic job for one time slot.

    The unique (job, slot) pair makes enqueuing idempotent: several schedulers, or a
    scheduler restarted mid-slot, never enqueue the same run twice.
    """

    job = models.CharField(max_length=100)
    slot = models.BigIntegerField()
    enqueued_at = models.DateTimeField(default=timezone.now)
    task_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "slot"], name="scheduledrun_unique_job_slot")
        ]

    def __str__(self) -> str:
        return f"{self.job}@{self.slot}"
