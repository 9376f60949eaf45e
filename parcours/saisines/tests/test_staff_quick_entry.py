"""The quick entry of a phone call: a short form, the saisine created by saisine_create
with channel "phone", landing on its page."""

import re

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from parcours.saisines.models import Saisine
from parcours.saisines.staff_forms import QuickEntryForm
from parcours.saisines.tests.saisine_factories import saisine_count

pytestmark = pytest.mark.django_db

URL = reverse("saisines:quick-entry")


def call(**overrides) -> dict:
    data = {
        "origin": "resident",
        "requester_name": "Odile Lambert",
        "requester_phone": "06 12 34 56 78",
        "person_name": "LAMBERT Odile",
        "person_birth_date": "05/05/1950",
        "request": "medecin_traitant",
        "urgency": "normal",
        "note": "Rappeler après 14 h.",
        "consent": "on",
        "submission_key": "k" * 24,
    }
    return {**data, **overrides}


def test_the_form_is_short_and_asks_little():
    form = QuickEntryForm()
    visible = [field for field in form.visible_fields()]
    required = [field.name for field in visible if field.field.required]
    assert len(visible) <= 10
    assert len(required) <= 5
    assert required == ["origin", "request", "urgency"]
    assert form.fields["origin"].widget.attrs.get("autofocus")


def test_the_page_focuses_the_first_field_and_submits_with_enter(client, claire):
    client.force_login(claire)
    html = client.get(URL).content.decode()
    assert re.search(r'<select name="origin"[^>]*autofocus', html)
    # No textarea: Enter in any field submits the form.
    assert "<textarea" not in html.split('id="quick-entry"')[1]
    assert 'type="submit"' in html


def test_a_call_creates_a_phone_saisine_and_lands_on_its_page(client, claire, org_a):
    client.force_login(claire)
    response = client.post(URL, call())
    with scopes_disabled():
        saisine = Saisine.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("saisines:saisine-detail", args=[saisine.pk])
    assert (saisine.channel, saisine.origin, saisine.bulletin) == ("phone", "resident", "soins")
    assert saisine.requests == ["medecin_traitant"]
    assert saisine.requester_phone == "+33612345678"
    assert saisine.anonymous_description == "Personne : LAMBERT Odile, née ou né le 05/05/1950"
    assert saisine.free_text == "Rappeler après 14 h."
    assert saisine.consent_given and saisine.created_by == claire
    assert saisine.assigned_to == claire
    assert re.fullmatch(r"S-\d{4}-\d{6}", saisine.reference)
    page = client.get(response["Location"]).content.decode()
    assert saisine.reference in page and "LAMBERT Odile" in page


def test_the_request_gives_the_bulletin(client, claire):
    client.force_login(claire)
    client.post(URL, call(request="housing", origin="social_worker"))
    with scopes_disabled():
        assert Saisine.objects.get().bulletin == "medico_social"


def test_an_anonymous_person(client, claire):
    client.force_login(claire)
    response = client.post(URL, call(person_name="", person_birth_date="", anonymous="on"))
    assert response.status_code == 302
    with scopes_disabled():
        assert Saisine.objects.get().anonymous_description.endswith("anonyme pour l'instant")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"person_name": "", "person_birth_date": ""}, "cochez « anonyme »"),
        ({"anonymous": "on"}, "Décochez « anonyme »"),
        ({"origin": ""}, "Ce champ est obligatoire"),
        ({"request": "nimporte"}, "Sélectionnez un choix valide"),
        ({"person_birth_date": "01/01/2999"}, "futur"),
        ({"requester_phone": "12"}, "numéro"),
        ({"note": "a\x00b"}, "caractère nul"),
        ({"note": "x" * 2001}, "2000"),
        ({"person_name": "R2D2"}, "lettres"),
    ],
)
def test_bad_input_is_said_in_french_and_what_was_typed_is_kept(client, claire, changes, message):
    client.force_login(claire)
    response = client.post(URL, call(**changes))
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert 'value="Odile Lambert"' in html  # kept
    assert saisine_count() == 0


def test_a_double_submit_records_one_saisine(client, claire):
    client.force_login(claire)
    first = client.post(URL, call())
    second = client.post(URL, call())
    assert saisine_count() == 1
    assert first["Location"] == second["Location"]


def test_managers_and_professionals_cannot_enter_a_call(client, manon, dr_martin):
    for user in (manon, dr_martin):
        client.force_login(user)
        assert client.post(URL, call()).status_code == 403
    assert saisine_count() == 0
