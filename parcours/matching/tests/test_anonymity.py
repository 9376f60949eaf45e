"""No message of the médecin traitant search names the person.

A person with distinctive identifiers goes through the whole search: a first search asked
by e-mail, declined by one GP and closed (the others told the request is withdrawn); a
second one opened from a saisine, asked in two waves (the second by the escalation job),
accepted from a link (the others told "already placed"), chosen by the person (the
requester told by SMS), declared. Then EVERY e-mail of ``django.core.mail.outbox``
(subject, text, HTML alternative, headers) and every SMS of the memory backend is read:
none may hold an identifier, in any case, with or without accents, spaces or separators.
The link pages and the GP's own page (anonymous until he accepts) are read the same way.

The checker can fail: ``test_the_checker_catches_*`` plant identifiers in messages and
expect it to find them.
"""

import datetime
import re
import unicodedata
from email.header import decode_header, make_header

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from parcours.matching import messages, services
from parcours.matching.models import MTSearch, ProfessionalAccount, Solicitation
from parcours.matching.tests.matching_factories import open_search, person_without_mt, pool_gp
from parcours.messaging import sms
from parcours.saisines import services as saisine_services
from parcours.saisines.tests.saisine_factories import SaisineFactory

pytestmark = pytest.mark.django_db

BIRTH_NAME = "QUERNEVALOU"
USED_NAME = "Bréhandier-Lozach"
FIRST_NAMES = "Gwenaëlle Ysolde"
BIRTH_DATE = datetime.date(1956, 3, 14)
NIR = "256036925912358"  # key 58 = 97 - (2560369259123 mod 97)
ADDRESS = "17 impasse des Tilleuls-Argentés"
POSTAL_CODE = "69200"
PHONE = "06 47 83 29 15"
PHONE_2 = "04 78 61 52 93"
EMAIL = "gwen.quernevalou@example.net"

# Every way an identifier may be written. Each is compared with the message folded (no
# case, no accents) and also "compacted" (letters and digits only), so "06.47.83.29.15",
# "+33 6 47 83 29 15", "14-03-1956" or "Tilleuls Argentés" are found too.
IDENTIFIERS = [
    BIRTH_NAME,
    USED_NAME,
    "Bréhandier",
    "Lozach",
    "Gwenaëlle",
    "Ysolde",
    "14/03/1956",
    "1956-03-14",
    "14 mars 1956",
    "14/03/56",
    NIR,
    "2 56 03 69 259 123 58",
    "2560369259123",  # the NIR without its key
    ADDRESS,
    "Tilleuls-Argentés",
    POSTAL_CODE,
    PHONE,
    "+33647832915",
    "647832915",  # the subscriber number, whatever the prefix
    PHONE_2,
    "+33478615293",
    EMAIL,
]


def fold(text: str) -> str:
    """Lower case, no accents, one space between words."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.casefold().split())


def compact(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", fold(text))


def leaks(texts: dict[str, str], identifiers=IDENTIFIERS) -> list[str]:
    """``where: identifier`` for each identifier found in one of the texts."""
    found = []
    for where, text in texts.items():
        folded, packed = fold(text), compact(text)
        for identifier in identifiers:
            if fold(identifier) in folded or compact(identifier) in packed:
                found.append(f"{where}: {identifier}")
    return found


# Made by the mail library from the clock and random numbers: digits that could match a
# postal code by chance, and no room for what the application writes.
MACHINE_HEADERS = {"Message-ID", "Date"}


def _header(value) -> str:
    return str(make_header(decode_header(str(value))))


def outgoing() -> dict[str, str]:
    """Every part of every message sent: e-mails (all headers too) and SMS."""
    texts = {}
    for number, message in enumerate(mail.outbox):
        where = f"e-mail {number} to {message.to}"
        texts[f"{where} subject"] = message.subject
        texts[f"{where} body"] = message.body
        for index, (content, _mimetype) in enumerate(message.alternatives):
            texts[f"{where} alternative {index}"] = content
        addresses = [*message.to, *message.cc, *message.bcc, *message.reply_to]
        texts[f"{where} addresses"] = " ".join([message.from_email, *addresses])
        texts[f"{where} headers"] = "\n".join(
            f"{name}: {_header(value)}"
            for name, value in message.message().items()
            if name not in MACHINE_HEADERS
        )
    for number, text in enumerate(sms.outbox):
        texts[f"SMS {number} to {text.to}"] = f"{text.to} {text.text}"
    return texts


@pytest.fixture(autouse=True)
def _clean_outboxes(settings):
    settings.MATCHING_WAVE_SIZE = 2
    mail.outbox.clear()
    sms.outbox.clear()


@pytest.fixture
def gps(org_a):
    return [
        pool_gp(org_a, latitude=45.70 + i / 100, longitude=4.89, email=f"dr.{i}@example.org")
        for i in range(4)
    ]


@pytest.fixture
def person(org_a):
    return person_without_mt(
        org_a,
        birth_name=BIRTH_NAME,
        used_name=USED_NAME,
        first_names=FIRST_NAMES,
        used_first_name="Ysolde",
        birth_date=BIRTH_DATE,
        nir=NIR,
        address=ADDRESS,
        postal_code=POSTAL_CODE,
        phone=PHONE,
        phone_2=PHONE_2,
        email=EMAIL,
    )


@pytest.fixture
def saisine(org_a, claire, person):
    saisine = SaisineFactory(
        organisation=org_a,
        person=person,
        requester_email="",
        requester_phone="07 81 22 33 44",
        difficulty=f"Mme {BIRTH_NAME} ({NIR}) n'a plus de médecin depuis 2024.",
        free_text=f"Joindre Mme {USED_NAME} au {PHONE}, {ADDRESS}.",
    )
    saisine_services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=1)
    return saisine


def url(solicitation, action: str) -> str:
    return reverse("matching:solicitation-answer", args=[services.link_token(solicitation, action)])


def solicitations(search) -> list[Solicitation]:
    with scopes_disabled():
        return list(Solicitation.objects.filter(search=search).order_by("wave", "rank"))


def run_the_whole_search(client, org_a, claire, dr_martin, person, saisine) -> dict[str, str]:
    """The journey; returns the pages read on the way (link pages, the GP's page)."""
    pages = {}
    # A first search: one wave, one GP declines from the link, the search is closed.
    first = open_search(org_a, person, by=claire, note=f"Mme {BIRTH_NAME}, tél. {PHONE}")
    services.wave_send(search=first, by=claire)
    decline = url(solicitations(first)[0], "decline")
    pages["decline link"] = client.get(decline).content.decode()
    client.post(decline, {"reason": "full"})
    services.search_close(search=first, by=claire, reason=f"Mme {BIRTH_NAME} hospitalisée")
    # A second one from the saisine: two waves (the second by the escalation job).
    second = open_search(org_a, person, by=claire, saisine=saisine)
    services.wave_send(search=second, by=claire)
    later = timezone.now() + datetime.timedelta(hours=73)
    assert services.searches_escalate_due(later).get("wave") == 1
    asked = solicitations(second)
    assert len(asked) == 4
    # One of the GPs has an account: his page shows the request, anonymously.
    ProfessionalAccount.objects.create(
        user=dr_martin, professional=asked[3].professional, linked_at=timezone.now()
    )
    client.force_login(dr_martin)
    pages["GP page"] = client.get(reverse("matching:gp-home")).content.decode()
    client.logout()
    accept = url(asked[2], "accept")
    pages["accept link"] = client.get(accept).content.decode()
    assert client.post(accept).status_code == 200
    pages["placed link"] = client.get(url(asked[0], "accept")).content.decode()
    services.person_choice_record(search=second, by=claire, choice="accepted")
    services.mt_declared(search=second, by=claire, declared_on=timezone.localdate())
    assert second.status == MTSearch.Status.DECLARED
    return pages


def test_no_message_nor_link_page_names_the_person(
    client, org_a, claire, dr_martin, person, saisine, gps
):
    pages = run_the_whole_search(client, org_a, claire, dr_martin, person, saisine)

    texts = outgoing()
    subjects = [message.subject for message in mail.outbox]
    # The journey did send what it should: requests, withdrawals, "already placed", the
    # team's notice, and the requester's SMS.
    assert sum("Pourriez-vous accueillir" in s for s in subjects) == 6
    assert sum("demande retirée" in s for s in subjects) == 1
    assert sum("déjà placé" in s for s in subjects) == 3
    assert sum("un médecin a accepté" in s for s in subjects) == 1
    assert sms.outbox and any("médecin traitant a été trouvé" in m.text for m in sms.outbox)
    assert leaks(texts) == []
    assert leaks(pages) == []
    # The pages do show the anonymous facts (the checker reads real content).
    assert "Vénissieux" in pages["GP page"] and "Vénissieux" in pages["accept link"]
    assert "70 à 79 ans" in pages["GP page"] or "60 à 69 ans" in pages["GP page"]
    assert 'data-state="placed"' in pages["placed link"]


def test_the_checker_catches_a_name_planted_in_the_solicitation(
    org_a, claire, person, gps, monkeypatch
):
    real = messages.anonymous_facts

    def leaky(search, person):
        facts = real(search, person)
        return {**facts, "commune": f"{facts['commune']} ({person.birth_name.title()})"}

    monkeypatch.setattr(messages, "anonymous_facts", leaky)
    search = open_search(org_a, person, by=claire)
    services.wave_send(search=search, by=claire)

    found = leaks(outgoing())
    assert found
    assert all(line.endswith(BIRTH_NAME) for line in found)
    assert any("subject" not in line for line in found)


@pytest.mark.parametrize(
    "planted",
    [
        "Mme quernevalou",
        "Mme BREHANDIER",
        "née le 14.03.1956",
        "née le 14 MARS 1956",
        "NIR 2-56-03-69-259-123-58",
        "joignable au 06.47.83.29.15",
        "joignable au +33 6 47 83 29 15",
        "au 17, impasse des Tilleuls Argentes",
        "GWEN.QUERNEVALOU@EXAMPLE.NET",
    ],
)
def test_the_checker_catches_each_way_of_writing_an_identifier(planted):
    mail.EmailMultiAlternatives(subject="Demande n° 1", body="Rien", to=["dr@example.org"]).send()
    html = mail.EmailMultiAlternatives(subject="Demande n° 2", body="Rien", to=["dr@example.org"])
    html.attach_alternative(f"<p>{planted}</p>", "text/html")
    html.send()
    assert {line.split(":")[0] for line in leaks(outgoing())} == {
        "e-mail 1 to ['dr@example.org'] alternative 0"
    }
    mail.outbox.clear()
    sms.send_sms(to="07 81 22 33 44", text=f"Rappel : {planted}")
    assert leaks(outgoing())


def test_the_checker_reads_the_headers():
    mail.EmailMultiAlternatives(
        subject="Demande n° 1",
        body="Rien",
        to=["dr@example.org"],
        headers={"X-Patient": "Gwenaëlle"},
    ).send()
    assert leaks(outgoing()) == ["e-mail 0 to ['dr@example.org'] headers: Gwenaëlle"]
