from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import override_settings
from django.utils import timezone

from parcours.accounts.middleware import SESSION_STARTED_KEY

pytestmark = pytest.mark.django_db


def test_it_expires_sessions_after_thirty_idle_minutes(client, claire):
    client.force_login(claire)
    assert client.get("/territoire/").status_code == 200
    session = Session.objects.get()
    left = session.expire_date - timezone.now()
    assert timedelta(minutes=29) < left <= timedelta(minutes=30)  # renewed by each request
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))  # 30 idle min
    assert client.get("/territoire/").status_code == 302


@override_settings(SESSION_MAX_HOURS=12)
def test_it_ends_a_session_after_twelve_hours_whatever_the_activity(client, claire):
    client.force_login(claire)
    assert client.get("/territoire/").status_code == 200
    session = client.session
    session[SESSION_STARTED_KEY] -= 12 * 3600 + 1
    session.save()
    response = client.get("/territoire/")
    assert response.status_code == 302
    assert client.get("/territoire/").status_code == 302
