"""OpenID Connect (Pro Santé Connect) is configured from the environment alone."""

import json

import pytest

from parcours.lib.testing import run_python

pytestmark = pytest.mark.django_db

OIDC_ENV = {
    "OIDC_CLIENT_ID": "parcours-test",
    "OIDC_CLIENT_SECRET": "s3cret",
    "OIDC_SERVER_URL": "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet",
    "OIDC_PROVIDER_ID": "psc",
    "OIDC_NAME": "Pro Santé Connect",
}


def providers_with(env: dict) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        " print(json.dumps(s.SOCIALACCOUNT_PROVIDERS))"
    )
    result = run_python(code, env, drop=("OIDC_",))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_has_no_single_sign_on_unless_configured():
    assert providers_with({}) == {}


def test_it_reads_the_provider_from_the_environment():
    app = providers_with(OIDC_ENV)["openid_connect"]["APPS"][0]
    assert app["provider_id"] == "psc" and app["client_id"] == "parcours-test"
    assert app["settings"]["server_url"] == OIDC_ENV["OIDC_SERVER_URL"]
    assert app["settings"]["scope"] == ["openid", "scope_all"]


def test_the_login_page_offers_the_configured_provider(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = providers_with(OIDC_ENV)
    assert "Pro Santé Connect" in client.get("/comptes/login/").content.decode()
    confirm = client.get("/comptes/oidc/psc/login/")
    assert confirm.status_code == 200  # a confirmation page: nothing happens on GET
