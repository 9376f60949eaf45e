"""Background jobs of the foundation. Each is a few lines calling a service; safe to run twice."""

import logging

from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def sessions_purge_expired() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@task()
def audit_chain_check() -> bool:
    from parcours.audit.selectors import audit_chain_verify

    result = audit_chain_verify()
    if not result.ok:
        logger.error("audit chain broken at event %s", result.broken_event_id)
    return result.ok
