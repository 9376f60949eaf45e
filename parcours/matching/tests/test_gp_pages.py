"""The GP's own pages: his requests (anonymous), his answer, his new patients' bulletin,
his availability; and the administrator who links an account to a directory GP."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from parcours.audit.models import Action, AuditEvent
from parcours.directory.tests.directory_factories import ProfessionalFactory
from parcours.matching import services
from parcours.matching.models import MTSearch, MTSearchEvent, ProfessionalAccount, Solicitation
from parcours.matching.tests.matching_factories import (
    open_search,
    person_without_mt,
    pool_gp,
    reload,
)
from parcours.saisines.tests.saisine_factories import SaisineFactory

pytestmark = pytest.mark.django_db

HOME = reverse("matching:gp-home")


@pytest.fixture
def gp(org_a):
    return pool_gp(org_a, latitude=45.70, longitude=4.89, email="dr.martin@cabinet.example.org")


@pytest.fixture
def colleague(org_a):
    return pool_gp(org_a, latitude=45.71, longitude=4.90, email="dr.autre@example.org")


@pytest.fixture
def linked(dr_martin, gp):
    """dr_martin's account is the directory GP ``gp``."""
    return ProfessionalAccount.objects.create(
        user=dr_martin, professional=gp, linked_at=timezone.now()
    )


@pytest.fixture
def person(org_a):
    return person_without_mt(
        org_a, birth_name="KERVADEC", first_names="Annick", address="3 rue des Mésanges"
    )


@pytest.fixture
def search(org_a, claire, person, gp, colleague):
    saisine = SaisineFactory(
        organisation=org_a,
        person=person,
        difficulty="Plus de médecin depuis le départ en retraite du Dr X.",
        free_text="Appeler plutôt le matin.",
        requests=["medecin_traitant"],
    )
    return open_search(org_a, person, by=claire, saisine=saisine, priorities=["isolation"])


def mine(search, gp) -> Solicitation:
    sent = services.wave_send(search=search)
    return next(s for s in sent if s.professional_id == gp.pk)


def answer(client, solicitation, **data):
    prefix = f"d{solicitation.pk}"
    return client.post(
        reverse("matching:gp-answer", args=[solicitation.pk]),
        {f"{prefix}-{name}": value for name, value in data.items()},
    )


# --- The page -----------------------------------------------------------------------------


def test_an_account_without_link_is_told_whom_to_ask(client, dr_martin):
    client.force_login(dr_martin)
    response = client.get(HOME)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="compte-non-lie"' in page
    assert "Demandez à l&#x27;équipe de coordination de CPTS de Vénissieux" in page or (
        "Demandez à l'équipe de coordination de CPTS de Vénissieux" in page
    )


def test_the_page_lists_his_open_requests_anonymously(client, dr_martin, linked, search, gp):
    solicitation = mine(search, gp)
    client.force_login(dr_martin)

    page = client.get(HOME).content.decode()

    assert f'data-solicitation="{solicitation.pk}"' in page
    assert "Vénissieux" in page and "une femme" in page
    assert reverse("matching:gp-answer", args=[solicitation.pk]) in page
    for identifier in ("KERVADEC", "Annick", "Mésanges", "14/03/1956"):
        assert identifier not in page


def test_the_page_shows_his_availability_and_its_expiry(client, dr_martin, linked):
    client.force_login(dr_martin)
    page = client.get(HOME).content.decode()
    expires = (datetime.date.today() + datetime.timedelta(days=90)).strftime("%d/%m/%Y")
    assert expires in page
    assert "Oui, dès maintenant" in page
    assert "prochaine enquête de disponibilité" in page


def test_an_expired_availability_is_flagged(client, dr_martin, org_a):
    gp = pool_gp(org_a, expires_on=datetime.date.today() - datetime.timedelta(days=1))
    ProfessionalAccount.objects.create(user=dr_martin, professional=gp, linked_at=timezone.now())
    client.force_login(dr_martin)
    page = client.get(HOME).content.decode()
    assert "vous ne recevez plus de demandes" in page


def test_another_gps_requests_are_not_shown(client, dr_martin, linked, search, colleague):
    theirs = mine(search, colleague)
    client.force_login(dr_martin)
    page = client.get(HOME).content.decode()
    assert f'data-solicitation="{theirs.pk}"' not in page


# --- His answer ---------------------------------------------------------------------------


def test_he_accepts_from_his_page(client, dr_martin, linked, search, gp):
    solicitation = mine(search, gp)
    client.force_login(dr_martin)

    response = answer(client, solicitation, answer="accept")

    assert response.status_code == 302 and response["Location"] == HOME
    search = reload(search)
    assert search.status == MTSearch.Status.ACCEPTED
    assert search.accepted_professional_id == gp.pk
    assert reload(solicitation).status == Solicitation.Status.ACCEPTED
    page = client.get(HOME).content.decode()
    assert "ce patient vous est confié" in page
    assert reverse("matching:gp-bulletin", args=[search.pk]) in page


def test_a_decline_needs_a_reason_and_other_needs_a_note(client, dr_martin, linked, search, gp):
    solicitation = mine(search, gp)
    client.force_login(dr_martin)

    response = answer(client, solicitation, answer="decline")
    assert response.status_code == 200
    assert "Choisissez un motif." in response.content.decode()
    response = answer(client, solicitation, answer="decline", reason="other")
    assert response.status_code == 200
    assert "Précisez le motif." in response.content.decode()
    assert reload(solicitation).status == Solicitation.Status.SENT

    response = answer(client, solicitation, answer="decline", reason="full")
    assert response.status_code == 302
    solicitation = reload(solicitation)
    assert (solicitation.status, solicitation.decline_reason) == ("declined", "full")


def test_a_request_already_placed_says_so(client, dr_martin, linked, search, gp, colleague):
    sent = services.wave_send(search=search)
    solicitation = next(s for s in sent if s.professional_id == gp.pk)
    theirs = next(s for s in sent if s.pk != solicitation.pk)
    services.solicitation_accept(solicitation=theirs)
    client.force_login(dr_martin)

    response = answer(client, reload(solicitation), answer="accept")

    assert response.status_code == 302
    page = client.get(HOME).content.decode()
    assert "un confrère a accepté avant vous" in page
    assert reload(search).accepted_professional_id == colleague.pk


def test_he_cannot_answer_another_gps_request(client, dr_martin, linked, search, colleague):
    theirs = mine(search, colleague)
    client.force_login(dr_martin)
    assert answer(client, theirs, answer="accept").status_code == 404
    assert reload(theirs).status == Solicitation.Status.SENT


def test_an_account_without_link_cannot_answer(client, dr_martin, search, gp):
    solicitation = mine(search, gp)
    client.force_login(dr_martin)
    assert answer(client, solicitation, answer="accept").status_code == 404


def test_a_bad_answer_is_refused_without_error(client, dr_martin, linked, search, gp):
    solicitation = mine(search, gp)
    client.force_login(dr_martin)
    response = answer(client, solicitation, answer="maybe")
    assert response.status_code == 200
    assert reload(solicitation).status == Solicitation.Status.SENT


# --- The bulletin -------------------------------------------------------------------------


@pytest.fixture
def accepted(search, gp):
    services.solicitation_accept(solicitation=mine(search, gp))
    mail.outbox.clear()
    return reload(search)


def test_the_gp_who_accepted_reads_the_full_bulletin(client, dr_martin, linked, accepted):
    client.force_login(dr_martin)
    url = reverse("matching:gp-bulletin", args=[accepted.pk])

    response = client.get(url)

    assert response.status_code == 200
    page = response.content.decode()
    for shown in (
        "KERVADEC",
        "Annick",
        "14/03/1956",
        "3 rue des Mésanges",
        "Plus de médecin depuis le départ en retraite",
        "Appeler plutôt le matin.",
        "Isolement",
        "Trouver un médecin traitant",
    ):
        assert shown in page
    [event] = AuditEvent.objects.filter(action=Action.READ, object_id=str(accepted.pk))
    assert event.person_id == accepted.person_id
    assert event.actor == dr_martin
    assert event.details == {"bulletin": True}
    with scopes_disabled():
        assert MTSearchEvent.objects.filter(search=accepted, kind="bulletin").count() == 1


def test_another_gp_gets_404(client, ines, accepted, colleague):
    ProfessionalAccount.objects.create(user=ines, professional=colleague, linked_at=timezone.now())
    client.force_login(ines)
    response = client.get(reverse("matching:gp-bulletin", args=[accepted.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=Action.READ, object_id=str(accepted.pk)).exists()


def test_the_bulletin_closes_after_the_delay(client, dr_martin, linked, accepted, settings):
    days = settings.MATCHING_BULLETIN_DAYS
    with scopes_disabled():
        MTSearch.objects.filter(pk=accepted.pk).update(
            accepted_at=timezone.now() - datetime.timedelta(days=days, minutes=1)
        )
    client.force_login(dr_martin)

    assert client.get(reverse("matching:gp-bulletin", args=[accepted.pk])).status_code == 403
    page = client.get(HOME).content.decode()
    assert reverse("matching:gp-bulletin", args=[accepted.pk]) not in page
    assert "Plus consultable" in page


def test_an_open_search_has_no_bulletin(client, dr_martin, linked, search):
    client.force_login(dr_martin)
    assert client.get(reverse("matching:gp-bulletin", args=[search.pk])).status_code == 404


# --- Administrators link accounts ---------------------------------------------------------

ACCOUNTS = reverse("matching:professional-accounts")


def link(client, membership_user, rpps):
    from parcours.accounts.models import Membership

    with scopes_disabled():
        membership = Membership.objects.get(user=membership_user)
    return client.post(ACCOUNTS, {"action": "link", "membership": membership.pk, "rpps": rpps})


def test_the_administrator_links_a_member_to_a_gp(client, alain, dr_martin, gp):
    client.force_login(alain)
    assert "dr.martin@example.org" in client.get(ACCOUNTS).content.decode()

    response = link(client, dr_martin, f" {gp.rpps[:5]} {gp.rpps[5:]} ")

    assert response.status_code == 302
    account = ProfessionalAccount.objects.get(user=dr_martin)
    assert account.professional == gp and account.linked_by == alain
    [event] = AuditEvent.objects.filter(
        action=Action.CREATE, object_type="matching.professionalaccount"
    )
    assert event.actor == alain and event.details == {"user": dr_martin.pk, "professional": gp.pk}
    assert gp.rpps in client.get(ACCOUNTS).content.decode()


@pytest.mark.parametrize(
    ("rpps", "message"),
    [
        ("123", "Le numéro RPPS compte 11 chiffres."),
        ("99999999999", "Aucun professionnel de l&#x27;annuaire n&#x27;a ce numéro RPPS."),
        ("nurse", "n&#x27;est pas médecin généraliste"),
    ],
)
def test_a_bad_rpps_is_refused_in_french(client, alain, dr_martin, rpps, message):
    nurse = ProfessionalFactory(profession_code="60", profession="Infirmier", savoir_faire_code="")
    client.force_login(alain)
    response = link(client, dr_martin, nurse.rpps if rpps == "nurse" else rpps)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ProfessionalAccount.objects.exists()


def test_one_account_per_gp(client, alain, dr_martin, ines, gp, colleague):
    ProfessionalAccount.objects.create(user=ines, professional=gp, linked_at=timezone.now())
    client.force_login(alain)

    response = link(client, dr_martin, gp.rpps)
    assert "déjà lié au compte d&#x27;un autre membre" in response.content.decode()
    link(client, dr_martin, colleague.rpps)
    response = link(client, dr_martin, ProfessionalFactory().rpps)
    assert "Ce membre est déjà lié à un médecin" in response.content.decode()
    assert ProfessionalAccount.objects.get(user=dr_martin).professional == colleague


def test_only_professional_members_of_the_organisation_can_be_linked(
    client, alain, claire, bruno, gp
):
    client.force_login(alain)
    for user in (claire, bruno):
        response = link(client, user, gp.rpps)
        assert response.status_code == 200
        assert "Sélectionnez un choix valide" in response.content.decode()
    assert not ProfessionalAccount.objects.exists()


def test_the_administrator_unlinks(client, alain, dr_martin, linked):
    from parcours.accounts.models import Membership

    with scopes_disabled():
        membership = Membership.objects.get(user=dr_martin)
    client.force_login(alain)

    response = client.post(ACCOUNTS, {"action": "unlink", "membership": membership.pk})

    assert response.status_code == 302
    assert not ProfessionalAccount.objects.exists()
    assert AuditEvent.objects.filter(
        action=Action.DELETE, object_type="matching.professionalaccount"
    ).exists()


def test_an_administrator_of_another_organisation_cannot_unlink(client, dr_martin, linked, org_b):
    from parcours.accounts.models import Membership
    from parcours.accounts.tests.factories import member

    admin_b = member(org_b, "administrator", email="admin.b@example.org")
    with scopes_disabled():
        membership = Membership.objects.get(user=dr_martin)
    client.force_login(admin_b)
    client.post(ACCOUNTS, {"action": "unlink", "membership": membership.pk})
    assert ProfessionalAccount.objects.filter(user=dr_martin).exists()


def test_requests_of_another_organisation_stay_there(client, dr_martin, linked, gp, org_b, bruno):
    from parcours.directory.tests.directory_factories import AvailabilityFactory

    AvailabilityFactory(
        organisation=org_b,
        professional=gp,
        age_groups=["adults", "seniors"],
        expires_on=datetime.date.today() + datetime.timedelta(days=90),
    )
    elsewhere = open_search(org_b, person_without_mt(org_b), by=bruno)
    [theirs] = services.wave_send(search=elsewhere)
    client.force_login(dr_martin)  # a member of A only
    assert f'data-solicitation="{theirs.pk}"' not in client.get(HOME).content.decode()
    assert answer(client, theirs, answer="accept").status_code == 404
    services.solicitation_accept(solicitation=theirs)
    url = reverse("matching:gp-bulletin", args=[elsewhere.pk])
    assert client.get(url).status_code == 404
