"""Security headers, and production mode's refusals, checked in a subprocess with real env."""

import json
import subprocess

import pytest
from django.conf import settings

from parcours.lib.testing import run_python

pytestmark = pytest.mark.django_db
PROD_KEY = "k" * 30 + "-production-secret-for-tests-0123456789"


def test_it_sends_a_strict_content_security_policy(client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def run_production(code: str, **extra_env) -> subprocess.CompletedProcess:
    env = {
        "PARCOURS_ENV": "production",
        "SECRET_KEY": PROD_KEY,
        "ALLOWED_HOSTS": "parcours.example.org",
        "DATABASE_URL": f"sqlite:///{settings.BASE_DIR / 'var' / 'prod-check.sqlite3'}",
        "PARCOURS_DEMO": "0",
        **extra_env,
    }
    return run_python(code, env, drop=("PARCOURS_", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"))


def test_it_sends_hsts_and_secure_cookies_in_production():
    code = (
        "import django, json; django.setup()\n"
        "from django.test import Client\n"
        "r = Client(SERVER_NAME='parcours.example.org').get('/sante/', secure=True)\n"
        "from django.conf import settings as s\n"
        "print(json.dumps({'hsts': r.get('Strict-Transport-Security'), 'status': r.status_code,"
        " 'cookies': [s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE]}))"
    )
    result = run_production(code)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["status"] == 200
    assert data["hsts"].startswith("max-age=31536000")
    assert data["cookies"] == [True, True]


def test_it_passes_check_deploy_in_production():
    result = run_production(
        "from django.core.management import execute_from_command_line as e;"
        " e(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DEBUG": "1"}, "DEBUG"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"PARCOURS_DEMO": "1"}, "PARCOURS_DEMO"),
    ],
)
def test_it_refuses_to_start_in_production_with_unsafe_settings(env, message):
    result = run_production("import django; django.setup()", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
