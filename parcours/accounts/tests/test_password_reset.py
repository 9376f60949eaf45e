import re

import pytest
from django.core import mail

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Nouveau-mot-de-passe-2026"


def test_it_resets_a_forgotten_password_from_the_emailed_link(client, dr_martin):
    response = client.post("/comptes/password/reset/", {"email": dr_martin.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and dr_martin.email not in mail.outbox[0].subject
    link = re.search(
        r"http://testserver(/comptes/password/reset/key/\S+/)", mail.outbox[0].body
    ).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    dr_martin.refresh_from_db()
    assert not dr_martin.check_password(NEW_PASSWORD)  # opening the link changes nothing
    response = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    dr_martin.refresh_from_db()
    assert dr_martin.check_password(NEW_PASSWORD)


def test_it_does_not_reveal_whether_an_address_has_an_account(client, db):
    response = client.post("/comptes/password/reset/", {"email": "personne@example.org"})
    assert response.status_code == 302
    assert all("personne@example.org" not in m.subject for m in mail.outbox)
