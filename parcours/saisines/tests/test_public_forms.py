"""The public saisine forms: the resident's (French and English), the professional's (with
e-mail verification, or logged in), the confirmation with the private status link, the
status page, and the abuse the internet sends (oversized fields, scripts, odd Unicode,
missing consent, double submits, robots, floods): French messages, no 500, nothing lost."""

import html
import secrets
import threading
import time

import pytest
from django import forms
from django.conf import settings as django_settings
from django.core import mail, signing
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from parcours.audit.models import AuditEvent
from parcours.directory.tests.directory_factories import CommuneFactory
from parcours.messaging import sms
from parcours.people.models import Person
from parcours.saisines import services
from parcours.saisines.models import Orientation, Saisine
from parcours.saisines.public_forms import ProfessionalForm, ResidentForm
from parcours.saisines.verification import verification_token
from parcours.territory.models import Territory

from .saisine_factories import OrientationFactory, SaisineFactory, saisine_count

pytestmark = pytest.mark.django_db

RESIDENT = reverse("saisines:public-resident", args=["cpts-venissieux"])
PROFESSIONAL = reverse("saisines:public-professional", args=["cpts-venissieux"])
KEY = "cle-de-soumission-0123456789"


@pytest.fixture(autouse=True)
def territory(org_a):
    with scopes_disabled():
        territory = Territory.objects.create(organisation=org_a, name="CPTS de Vénissieux")
        territory.communes.add(CommuneFactory())
    return territory


@pytest.fixture(autouse=True)
def _clean_outboxes(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SAISINE_PUBLIC_RATE_LIMIT = "1000/m"  # the rate limit tests set their own
    sms.outbox.clear()


def resident_post(**changes) -> dict:
    data = {
        "asker": "self",
        "relative_name": "",
        "first_name": "Martine",
        "last_name": "Dupont",
        "birth_date": "1958-04-12",
        "phone": "06 12 34 56 78",
        "email": "martine.dupont@example.org",
        "commune": "69259",
        "commune_other": "",
        "has_mt": "no",
        "need": "medecin_traitant",
        "need_other": "",
        "languages": ["fr", "ar"],
        "languages_other": "",
        "consent": "on",
        "website": "",
        "submission_key": KEY,
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def professional_post(**changes) -> dict:
    data = {
        "requester_name": "Sophie Lambert",
        "requester_role": "Assistante sociale",
        "requester_organisation": "CCAS de Vénissieux",
        "requester_rpps": "",
        "requester_phone": "04 72 00 00 00",
        "requester_email": "s.lambert@example.org",
        "origin": "social_worker",
        "bulletin": "medico_social",
        "difficulty": "Perte de logement, plus de suivi médical depuis un an.",
        "requests_soins": ["medecin_traitant"],
        "requests_medico_social": ["housing", "rights"],
        "person_last_name": "Martin",
        "person_first_name": "Paul",
        "person_birth_date": "1950-02-03",
        "person_sex": "M",
        "person_phone": "",
        "person_commune": "69259",
        "person_commune_other": "",
        "person_has_mt": "unknown",
        "person_mt_name": "",
        "urgency": "urgent",
        "free_text": "Joignable le matin.",
        "consent": "on",
        "website": "",
        "submission_key": KEY,
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def the_saisine() -> Saisine:
    with scopes_disabled():
        return Saisine.objects.select_related("organisation").get()


def text_of(response) -> str:
    """The page's text, HTML entities decoded (Django escapes apostrophes)."""
    return html.unescape(response.content.decode())


def english(client: Client) -> Client:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- The resident's form -------------------------------------------------------------------


def test_it_shows_the_form_of_the_organisation_named_in_the_address(client):
    page = client.get(RESIDENT)
    assert page.status_code == 200
    assert "CPTS de Vénissieux" in text_of(page)
    assert "Ce que nous recueillons" in text_of(page)  # the consent text
    assert client.get("/saisines/inconnue/demande/").status_code == 404
    assert client.get("/saisines/inconnue/professionnel/").status_code == 404


def test_it_records_the_request_without_creating_a_person(client, org_a):
    response = client.post(RESIDENT, resident_post())
    assert response.status_code == 302
    assert response["Location"] == reverse("saisines:public-resident-done", args=[org_a.slug])
    saisine = the_saisine()
    assert saisine.organisation == org_a
    assert (saisine.origin, saisine.channel, saisine.status) == ("resident", "web", "received")
    assert saisine.requester_name == "Martine Dupont"
    assert saisine.requester_email == "martine.dupont@example.org"
    assert saisine.requester_phone.as_e164 == "+33612345678"
    assert saisine.requests == ["medecin_traitant"] and saisine.consent_given
    assert saisine.person is None and not Person.objects.exists()
    description = saisine.anonymous_description
    assert "Martine DUPONT, née ou né le 12/04/1958" in description
    assert "Vénissieux (69259)" in description
    assert "Médecin traitant : Non" in description
    assert "Langues parlées : Français, Arabe" in description
    assert saisine.language == "fr"


def test_a_relative_asks_for_someone_else(client):
    client.post(
        RESIDENT,
        resident_post(
            asker="relative",
            relative_name="Karim Dupont",
            need="other",
            need_other="Ma mère ne peut plus se déplacer.",
        ),
    )
    saisine = the_saisine()
    assert (saisine.origin, saisine.requester_name) == ("relative", "Karim Dupont")
    assert saisine.free_text == "Ma mère ne peut plus se déplacer." and saisine.requests == []
    assert "un proche de la personne" in saisine.anonymous_description


def test_a_relative_must_give_their_name_and_another_need_its_words(client):
    page = client.post(RESIDENT, resident_post(asker="relative", need="other"))
    text = text_of(page)
    assert page.status_code == 200 and saisine_count() == 0
    assert "Indiquez votre prénom et votre nom." in text
    assert "Expliquez votre besoin en quelques mots." in text


def test_another_commune_needs_its_name(client):
    page = client.post(RESIDENT, resident_post(commune="autre"))
    assert "Indiquez le nom de la commune." in text_of(page)
    client.post(RESIDENT, resident_post(commune="autre", commune_other="Saint-Fons"))
    assert "Commune : Saint-Fons" in the_saisine().anonymous_description


def test_it_needs_a_phone_or_an_email(client):
    page = client.post(RESIDENT, resident_post(phone="", email=""))
    assert page.status_code == 200 and saisine_count() == 0
    assert "Indiquez un téléphone ou une adresse e-mail" in text_of(page)
    client.post(RESIDENT, resident_post(email=""))
    assert saisine_count() == 1


def test_a_birth_date_in_the_future_is_refused(client):
    page = client.post(RESIDENT, resident_post(birth_date="2999-01-01"))
    assert "Vérifiez la date de naissance" in text_of(page)
    assert saisine_count() == 0


def test_the_confirmation_shows_the_reference_and_the_status_link(client):
    page = client.post(RESIDENT, resident_post(), follow=True)
    saisine = the_saisine()
    text = text_of(page)
    assert "Votre demande est envoyée" in text and saisine.reference in text
    status_url = page.context["status_url"]
    assert status_url.startswith("http://testserver/saisines/suivi/")
    assert "Martine" not in status_url and str(saisine.pk) not in status_url.split("/")[-2][:2]
    # The page can be reloaded (or its language changed) while the session lasts.
    assert client.get(page.request["PATH_INFO"]).context["reference"] == saisine.reference
    # Another browser has nothing to see there.
    other = Client().get(page.request["PATH_INFO"])
    assert "Rien à afficher" in text_of(other) and saisine.reference not in text_of(other)


def test_the_status_link_is_emailed_in_the_requesters_language(client):
    english(client).post(RESIDENT, resident_post())
    saisine = the_saisine()
    assert saisine.language == "en"
    [message] = mail.outbox
    assert message.to == ["martine.dupont@example.org"]
    assert message.subject == "Your request has been received"
    assert "Martine" not in message.subject
    assert saisine.reference in message.body and "/saisines/suivi/" in message.body
    assert "The status page shows no personal information." in message.body


def test_a_resident_with_only_a_phone_gets_the_link_by_sms(client):
    client.post(RESIDENT, resident_post(email=""))
    assert mail.outbox == []
    [text] = sms.outbox
    assert text.to == "+33612345678" and "/saisines/suivi/" in text.text


def test_the_form_and_its_messages_are_in_english_for_an_english_visitor(client):
    page = english(client).get(RESIDENT)
    text = text_of(page)
    assert '<html lang="en">' in text
    assert "Ask for help" in text and "What we collect" in text
    refused = client.post(RESIDENT, resident_post(consent=None, phone="", email=""))
    text = text_of(refused)
    assert "Tick this box to send the request" in text
    assert "Give a phone number or an e-mail address" in text


def test_the_language_switch_sets_the_visitors_language(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": RESIDENT})
    assert response.status_code == 302 and response["Location"] == RESIDENT
    assert "Ask for help" in text_of(client.get(RESIDENT))
    client.post(reverse("set_language"), {"language": "fr", "next": RESIDENT})
    assert "Demander de l'aide" in text_of(client.get(RESIDENT))


# --- Abuse ---------------------------------------------------------------------------------


def test_every_text_field_has_a_maximum_length():
    for form in (ResidentForm(), ProfessionalForm()):
        for name, field in form.fields.items():
            if isinstance(field, forms.FileField):  # checked by attachments.py
                continue
            if hasattr(field, "max_length") and not getattr(field, "choices", None):
                assert field.max_length, f"{type(form).__name__}.{name} has no max_length"


def test_a_one_megabyte_post_is_refused_with_a_french_message_and_kept(client):
    huge = "é" * 500_000  # 1 MB in UTF-8
    page = client.post(
        RESIDENT, resident_post(need="other", need_other=huge, first_name="A" * 5000)
    )
    text = text_of(page)
    assert page.status_code == 200 and saisine_count() == 0
    assert "Assurez-vous que cette valeur comporte au plus 2000 caractères" in text
    assert "au plus 100 caractères" in text
    assert huge in text  # what was typed is still there


def test_a_post_beyond_what_django_reads_is_a_400_not_a_500(client):
    # Beyond DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB of fields) Django refuses to read the body.
    page = client.post(RESIDENT, resident_post(need="other", need_other="x" * 3_000_000))
    assert page.status_code == 400 and saisine_count() == 0


def test_oversized_fields_of_the_professional_form_are_refused(client):
    data = professional_post(difficulty="x" * 2001, free_text="y" * 4001, requester_role="z" * 151)
    page = client.post(PROFESSIONAL, data)
    text = text_of(page)
    assert page.status_code == 200 and saisine_count() == 0
    assert "au plus 2000 caractères" in text and "au plus 4000 caractères" in text
    assert "au plus 150 caractères" in text


SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_scripts_are_escaped_on_the_pages_that_show_them(client):
    page = client.post(RESIDENT, resident_post(first_name=SCRIPT, need="other", need_other=SCRIPT))
    text = page.content.decode()
    assert SCRIPT not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert "Ce champ n'accepte que des lettres" in text_of(page)  # a name is letters only
    # In free text a script is only text: stored as typed, never rendered as markup.
    client.post(RESIDENT, resident_post(need="other", need_other=SCRIPT))
    saisine = the_saisine()
    assert saisine.free_text == SCRIPT
    done = client.get(reverse("saisines:public-resident-done", args=["cpts-venissieux"]))
    status = client.get(done.context["status_url"].removeprefix("http://testserver"))
    for response in (done, status):
        assert (
            SCRIPT not in response.content.decode()
            and "<img src=x" not in response.content.decode()
        )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("need_other", "Bonjour\x00", "caractère nul"),
        ("first_name", "Mar\x00tine", "caractère nul"),
        ("need_other", "facture \u202egpj.exe", "change le sens d'écriture"),
        ("last_name", "Dupont\u2066", "change le sens d'écriture"),
        ("need_other", "ligne\x07cloche", "caractère de contrôle"),
        ("first_name", "Martine 😀", "n'accepte que des lettres"),
        ("email", "martine\x00@example.org", "caractère nul"),
    ],
)
def test_odd_unicode_is_refused_with_a_french_message_and_kept(client, field, value, message):
    data = resident_post(need="other", need_other="Aide")
    data[field] = value
    page = client.post(RESIDENT, data)
    assert page.status_code == 200 and saisine_count() == 0
    assert message in text_of(page)


@pytest.mark.parametrize("form", ["resident", "professional"])
def test_a_nul_byte_in_any_field_is_refused_without_an_error(client, form):
    url, base = (
        (RESIDENT, resident_post) if form == "resident" else (PROFESSIONAL, professional_post)
    )
    for name, value in base().items():
        if name in ("website", "submission_key", "consent"):  # not stored as typed
            continue
        data = base(submission_key=f"cle-{name}-0123456789")
        data[name] = [v + "\x00" for v in value] if isinstance(value, list) else value + "\x00"
        response = client.post(url, data)
        assert response.status_code == 200, name
    assert saisine_count() == 0


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first_name=st.text(max_size=120),
    need_other=st.text(max_size=300),
    email=st.text(max_size=60),
)
def test_whatever_is_typed_the_answer_is_a_page_never_an_error(
    client, first_name, need_other, email
):
    data = resident_post(
        first_name=first_name, need="other", need_other=need_other, email=email, phone=""
    )
    data["submission_key"] = secrets.token_urlsafe(24)
    assert client.post(RESIDENT, data).status_code in (200, 302)


def test_harmless_unicode_goes_through(client):
    client.post(
        RESIDENT,
        resident_post(
            first_name="Zo\u200bé",  # a zero-width space (copy-paste): removed
            last_name="N’Diaye-Œuvray",
            need="other",
            need_other="Merci 🙏 — شكرا — 谢谢",  # emoji and other scripts are fine in free text
        ),
    )
    saisine = the_saisine()
    assert saisine.requester_name == "Zoé N’Diaye-Œuvray"
    assert saisine.free_text == "Merci 🙏 — شكرا — 谢谢"


def test_missing_consent_is_refused_and_what_was_typed_is_kept(client):
    page = client.post(RESIDENT, resident_post(consent=None))
    text = text_of(page)
    assert page.status_code == 200 and saisine_count() == 0
    assert "Cochez cette case pour envoyer la demande" in text
    assert 'value="Martine"' in text and 'value="martine.dupont@example.org"' in text
    assert "Ce que vous avez saisi est conservé" in text


def test_the_same_submission_twice_gives_one_saisine_and_one_message(client):
    first = client.post(RESIDENT, resident_post())
    second = client.post(RESIDENT, resident_post())
    assert first.status_code == second.status_code == 302
    assert saisine_count() == 1 and len(mail.outbox) == 1
    client.post(RESIDENT, resident_post(submission_key="une-autre-cle-0123456789"))
    assert saisine_count() == 2


def test_a_missing_or_forged_submission_key_still_records_the_request(client):
    client.post(RESIDENT, resident_post(submission_key=None))
    client.post(RESIDENT, resident_post(submission_key="<'\x00>"))
    assert saisine_count() == 2


def test_each_form_carries_a_fresh_submission_key(client):
    first = client.get(RESIDENT).context["form"]["submission_key"].value()
    second = client.get(RESIDENT).context["form"]["submission_key"].value()
    assert first != second and len(first) >= 16


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_give_one_saisine(org_a):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL (SQLite serialises writers)")
    barrier = threading.Barrier(2)
    statuses = []

    def post():
        try:
            barrier.wait()
            statuses.append(Client().post(RESIDENT, resident_post()).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302, 302]
    assert saisine_count() == 1


def test_a_filled_honeypot_is_answered_sent_and_records_nothing(client):
    # Robots fill every field; people never see this one. The robot is told its request
    # went through (an error would teach it to leave the field empty next time).
    response = client.post(RESIDENT, resident_post(website="http://spam.example"), follow=True)
    assert response.status_code == 200
    assert "Votre demande est envoyée" in text_of(response)
    assert "Numéro de votre demande" not in text_of(response)
    assert saisine_count() == 0 and mail.outbox == [] and sms.outbox == []


def test_too_many_posts_get_a_429_that_keeps_what_was_typed(client, settings):
    settings.SAISINE_PUBLIC_RATE_LIMIT = "2/m"
    for key in ("premiere-cle-0123456789", "deuxieme-cle-0123456789"):
        assert client.post(RESIDENT, resident_post(submission_key=key)).status_code == 302
    assert client.get(RESIDENT).status_code == 200  # reading the form is not counted
    refused = client.post(RESIDENT, resident_post(submission_key="troisieme-cle-0123456789"))
    text = text_of(refused)
    assert refused.status_code == 429 and refused["Retry-After"]
    assert "Trop de demandes envoyées depuis votre connexion" in text
    assert 'value="Martine"' in text
    assert saisine_count() == 2
    refused = english(client).post(RESIDENT, resident_post())
    assert refused.status_code == 429
    assert "Too many requests sent from your connection" in text_of(refused)


def test_the_limit_counts_each_address(client, settings):
    settings.SAISINE_PUBLIC_RATE_LIMIT = "1/m"
    first = client.post(RESIDENT, resident_post(), REMOTE_ADDR="198.51.100.1")
    other = client.post(
        RESIDENT, resident_post(submission_key="autre-cle-0123456789"), REMOTE_ADDR="198.51.100.2"
    )
    again = client.post(RESIDENT, resident_post(), REMOTE_ADDR="198.51.100.1")
    assert (first.status_code, other.status_code, again.status_code) == (302, 302, 429)


# --- The status page -----------------------------------------------------------------------


def status_path(saisine) -> str:
    return reverse("saisines:status", args=[services.saisine_status_token(saisine)])


def test_the_status_page_shows_the_state_and_no_personal_data(client, org_a):
    saisine = SaisineFactory(
        organisation=org_a,
        requester_name="Martine Dupont",
        requester_email="martine.dupont@example.org",
        requester_phone="+33612345678",
        anonymous_description="Martine DUPONT, née le 12/04/1958",
    )
    OrientationFactory(saisine=saisine, status=Orientation.Status.ACCEPTED)
    page = client.get(status_path(saisine))
    text = text_of(page)
    assert page.status_code == 200
    assert saisine.reference in text and "CPTS de Vénissieux" in text
    assert "Votre demande a bien été reçue" in text
    assert "Votre demande a été orientée vers une structure qui l'a acceptée." in text
    for private in (
        "Martine",
        "Dupont",
        "example.org",
        "06 12",
        "1958",
        "plaie chronique",  # the factory's difficulty
        "Précisions confidentielles",
        "CCAS de Vénissieux",  # the recipient's name can reveal a situation
        "Mme Martine",
    ):
        assert private not in text, private
    english_page = english(client).get(status_path(saisine))
    assert "Your request has been received" in text_of(english_page)


def test_opening_the_status_page_changes_nothing_and_is_audited(client, org_a):
    saisine = SaisineFactory(organisation=org_a)
    client.get(status_path(saisine))
    with scopes_disabled():
        assert Saisine.objects.get(pk=saisine.pk).version == saisine.version
    event = AuditEvent.objects.get(action="link_opened", object_type="saisines.saisine")
    assert (event.object_id, event.organisation, event.details) == (
        str(saisine.pk),
        org_a,
        {"link": "status"},
    )


def test_a_tampered_status_link_is_gone_in_french_and_english(client, org_a):
    token = services.saisine_status_token(SaisineFactory(organisation=org_a))
    tampered = reverse("saisines:status", args=[token[:-2] + "xx"])
    page = client.get(tampered)
    assert page.status_code == 410
    assert "Ce lien n'est pas valide" in text_of(page)
    page = english(client).get(tampered)
    assert page.status_code == 410 and "This link is not valid" in text_of(page)


def test_an_expired_status_link_is_gone(client, org_a, monkeypatch):
    saisine = SaisineFactory(organisation=org_a)
    days = django_settings.SAISINE_STATUS_LINK_DAYS
    real = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real() - (days + 1) * 86400)
    token = services.saisine_status_token(saisine)
    monkeypatch.setattr(signing.time, "time", real)
    page = client.get(reverse("saisines:status", args=[token]))
    assert page.status_code == 410
    assert "Ce lien a expiré" in text_of(page)


# --- The professional's form ---------------------------------------------------------------


def test_a_professional_files_from_the_public_page_and_verifies_the_address(client, org_a):
    response = client.post(PROFESSIONAL, professional_post())
    assert response.status_code == 302
    saisine = the_saisine()
    assert (saisine.origin, saisine.bulletin, saisine.urgency) == (
        "social_worker",
        "medico_social",
        "urgent",
    )
    assert saisine.requests == ["medecin_traitant", "housing", "rights"]
    assert saisine.requester_role == "Assistante sociale, CCAS de Vénissieux"
    assert saisine.requester_email == "s.lambert@example.org"
    assert saisine.requester_user is None and saisine.person is None
    assert saisine.status == "received" and saisine.requester_email_verified_at is None
    assert "Paul MARTIN, née ou né le 03/02/1950" in saisine.anonymous_description
    [message] = mail.outbox
    assert message.subject == "Confirmez votre adresse e-mail"
    link = next(line for line in message.body.splitlines() if "/saisines/verification/" in line)
    assert "/saisines/suivi/" in message.body  # the status link, in the same message
    path = link.strip().removeprefix("http://testserver")

    confirm = client.get(path)  # a mail scanner, or the professional: nothing recorded yet
    assert confirm.status_code == 200 and "Confirmer mon adresse" in text_of(confirm)
    assert the_saisine().requester_email_verified_at is None
    assert AuditEvent.objects.filter(action="link_opened", object_id=str(saisine.pk)).exists()

    done = client.post(path)
    assert "votre adresse est confirmée" in text_of(done)
    verified = the_saisine()
    assert verified.requester_email_verified_at is not None
    again = client.post(path)
    assert "déjà confirmée" in text_of(again)
    assert the_saisine().requester_email_verified_at == verified.requester_email_verified_at


def test_the_confirmation_tells_the_professional_to_check_the_mailbox(client):
    page = client.post(PROFESSIONAL, professional_post(), follow=True)
    text = text_of(page)
    assert "Un e-mail vient de vous être envoyé pour confirmer votre adresse" in text
    assert the_saisine().reference in text


def test_a_tampered_or_expired_verification_link_is_gone(client, org_a, monkeypatch):
    saisine = SaisineFactory(organisation=org_a, requester_email="pro@example.org")
    token = verification_token(saisine)
    page = client.post(reverse("saisines:verify-email", args=[token + "x"]))
    assert page.status_code == 410 and "n'est pas valide" in text_of(page)
    hours = django_settings.SAISINE_EMAIL_VERIFICATION_HOURS
    real = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real() - (hours + 1) * 3600)
    old = verification_token(saisine)
    monkeypatch.setattr(signing.time, "time", real)
    page = client.post(reverse("saisines:verify-email", args=[old]))
    assert page.status_code == 410 and "Ce lien a expiré" in text_of(page)
    assert the_saisine().requester_email_verified_at is None


def test_a_verification_link_stops_working_when_the_address_is_corrected(client, org_a):
    saisine = SaisineFactory(organisation=org_a, requester_email="pro@example.org")
    token = verification_token(saisine)
    with scopes_disabled():
        Saisine.objects.filter(pk=saisine.pk).update(requester_email="autre@example.org")
    assert client.post(reverse("saisines:verify-email", args=[token])).status_code == 410


def test_a_logged_in_member_files_without_verification(client, dr_martin):
    client.force_login(dr_martin)
    page = client.get(PROFESSIONAL)
    assert "requester_email" not in page.context["form"].fields
    assert "Vous êtes connecté·e" in text_of(page)
    client.post(PROFESSIONAL, professional_post(requester_email=None, origin="gp"))
    saisine = the_saisine()
    assert saisine.requester_user == dr_martin and saisine.created_by == dr_martin
    assert saisine.requester_email == dr_martin.email
    assert saisine.requester_email_verified_at is not None
    [message] = mail.outbox
    assert message.to == [dr_martin.email] and message.subject == "Votre demande a bien été reçue"


def test_a_member_of_another_organisation_is_a_visitor_there(client, bruno):
    client.force_login(bruno)
    page = client.get(PROFESSIONAL)
    assert "requester_email" in page.context["form"].fields
    client.post(PROFESSIONAL, professional_post())
    saisine = the_saisine()
    assert saisine.requester_user is None and saisine.requester_email_verified_at is None


def test_the_professional_form_refuses_missing_consent_and_a_bad_rpps(client):
    page = client.post(PROFESSIONAL, professional_post(consent=None, requester_rpps="1234"))
    text = text_of(page)
    assert page.status_code == 200 and saisine_count() == 0
    assert "l'équipe ne peut pas traiter une demande sans l'accord de la personne" in text
    assert "Le numéro RPPS compte 11 chiffres." in text
    assert "sauf les pièces jointes : sélectionnez-les de nouveau" in text
    assert 'value="Sophie Lambert"' in text


def test_the_professional_form_has_a_honeypot_and_a_submission_key(client):
    client.post(PROFESSIONAL, professional_post(website="x"))
    assert saisine_count() == 0 and mail.outbox == []
    client.post(PROFESSIONAL, professional_post())
    client.post(PROFESSIONAL, professional_post())
    assert saisine_count() == 1 and len(mail.outbox) == 1
