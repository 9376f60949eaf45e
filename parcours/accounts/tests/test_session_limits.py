import pytest
from django.test import override_settings

from parcours.accounts.middleware import SESSION_STARTED_KEY

pytestmark = pytest.mark.django_db


def test_it_expires_sessions_after_thirty_idle_minutes(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


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
