import pytest
from django.urls import reverse

URLS = [reverse("audit:event-list"), reverse("audit:event-export")]


@pytest.mark.parametrize("url", URLS)
def test_it_lets_the_administrator_in(client, alain, url):
    client.force_login(alain)

    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("who", ["claire", "manon", "dr_martin", "paul"])
def test_it_forbids_other_roles(client, request, url, who):
    client.force_login(request.getfixturevalue(who))

    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", URLS)
def test_it_sends_anonymous_visitors_to_the_login_page(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_writes_no_export_event_for_a_refused_user(client, claire):
    from parcours.audit.models import AuditEvent

    client.force_login(claire)
    client.get(URLS[1])

    assert not AuditEvent.objects.filter(action="export").exists()
