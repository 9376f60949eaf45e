"""The GP declares his own availability from his page (``matching:gp-availability``):
created then updated, audited, valid ``MATCHING_DECLARATION_MONTHS`` months, bad input
refused in French, and the declaration is what puts him in (or takes him out of) the pool
the médecin traitant search ranks."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from parcours.audit.models import Action, AuditEvent
from parcours.directory.availability import availability_declare
from parcours.directory.models import Availability, Source
from parcours.directory.tests.directory_factories import (
    AvailabilityFactory,
    PracticeSituationFactory,
    ProfessionalFactory,
)
from parcours.matching import ranking
from parcours.matching.models import ProfessionalAccount
from parcours.matching.tests.matching_factories import VENISSIEUX

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
TODAY = datetime.datetime(2026, 8, 31, 10, 0, tzinfo=PARIS)  # + 6 months: 28/02/2027
HOME = reverse("matching:gp-home")
DECLARE = reverse("matching:gp-availability")


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: TODAY)


@pytest.fixture
def gp(org_a):
    """A GP of Vénissieux with no declaration yet."""
    professional = ProfessionalFactory(last_name="MARTIN")
    PracticeSituationFactory(
        professional=professional, latitude=VENISSIEUX[0], longitude=VENISSIEUX[1]
    )
    return professional


@pytest.fixture
def linked(client, dr_martin, gp):
    """dr_martin, logged in, is the directory GP ``gp``."""
    ProfessionalAccount.objects.create(user=dr_martin, professional=gp, linked_at=timezone.now())
    client.force_login(dr_martin)
    return client


def declare(client, **data):
    fields = {f"disponibilite-{name}": value for name, value in data.items()}
    return client.post(DECLARE, fields)


def availability_of(organisation, gp) -> Availability | None:
    with scopes_disabled():
        return Availability.objects.filter(organisation=organisation, professional=gp).first()


def events(action) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=action, object_type="directory.availability").order_by(
            "id"
        )
    )


def nearby(organisation) -> list[int]:
    """The GPs the search would rank for a person living in Vénissieux."""
    wanted = ranking.Wanted(latitude=VENISSIEUX[0], longitude=VENISSIEUX[1], radius_km=10.0)
    with scope(organisation=organisation):
        return [c.professional_id for c in ranking.rank(organisation=organisation, wanted=wanted)]


# --- Declaring, updating -------------------------------------------------------------------


def test_the_page_offers_the_declaration_form(linked):
    page = linked.get(HOME).content.decode()
    assert f'action="{DECLARE}"' in page
    assert "Déclarer ma disponibilité" in page
    assert 'name="disponibilite-accepting"' in page and 'name="disponibilite-capacity"' in page


def test_it_creates_the_declaration_valid_six_months(linked, org_a, dr_martin, gp):
    response = declare(
        linked, accepting="now", capacity="12", age_groups=["seniors", "adults"], home_visits="on"
    )

    assert response.status_code == 302
    assert response.url == HOME + "#disponibilite"
    availability = availability_of(org_a, gp)
    assert availability.accepting == Availability.Accepting.NOW
    assert availability.capacity == 12
    assert availability.age_groups == ["adults", "seniors"]
    assert availability.home_visits is True
    assert availability.declared_on == datetime.date(2026, 8, 31)
    assert availability.expires_on == datetime.date(2027, 2, 28)
    assert availability.source == Source.PROFESSIONAL
    assert availability.declared_by == dr_martin
    page = linked.get(HOME).content.decode()
    assert "Votre disponibilité est enregistrée, valable jusqu&#x27;au 28/02/2027" in page
    assert "Mettre à jour ma disponibilité" in page


def test_the_creation_is_audited_with_the_gp_as_actor(linked, org_a, dr_martin, gp):
    declare(linked, accepting="within_6_months", capacity="4")

    [event] = events(Action.CREATE)
    assert event.actor == dr_martin and event.organisation == org_a
    assert event.object_id == str(availability_of(org_a, gp).pk)
    assert event.details == {
        "accepting": "within_6_months",
        "capacity": 4,
        "expires_on": "2027-02-28",
    }


def test_it_updates_the_same_declaration(linked, org_a, dr_martin, gp, monkeypatch):
    declare(linked, accepting="now", capacity="12")
    later = TODAY + datetime.timedelta(days=20)
    monkeypatch.setattr(timezone, "now", lambda: later)
    linked.force_login(dr_martin)  # a new session, 20 days later

    declare(linked, accepting="within_6_months", capacity="3")

    with scopes_disabled():
        assert Availability.objects.filter(professional=gp).count() == 1
    availability = availability_of(org_a, gp)
    assert (availability.accepting, availability.capacity) == ("within_6_months", 3)
    assert availability.declared_on == datetime.date(2026, 9, 20)
    assert availability.expires_on == datetime.date(2027, 3, 20)
    [update] = events(Action.UPDATE)
    assert update.details["accepting"] == "within_6_months"
    assert update.object_id == str(availability.pk)


def test_the_same_declaration_twice_changes_nothing(linked, org_a, gp):
    declare(linked, accepting="now", capacity="12")
    declare(linked, accepting="now", capacity="12")  # double click

    assert len(events(Action.CREATE)) == 1
    assert not events(Action.UPDATE)


def test_it_replaces_the_surveys_answer(linked, org_a, dr_martin, gp, claire):
    AvailabilityFactory(organisation=org_a, professional=gp, accepting="no", source=Source.SURVEY)

    declare(linked, accepting="now")

    availability = availability_of(org_a, gp)
    assert (availability.accepting, availability.source) == ("now", Source.PROFESSIONAL)
    assert availability.declared_by == dr_martin and availability.capacity is None


def test_the_validity_follows_the_setting(linked, org_a, gp, settings):
    settings.MATCHING_DECLARATION_MONTHS = 3

    declare(linked, accepting="now")

    assert availability_of(org_a, gp).expires_on == datetime.date(2026, 11, 30)


def test_no_keeps_no_number_age_or_home_visits(linked, org_a, gp):
    response = declare(
        linked, accepting="no", capacity="10", age_groups=["children"], home_visits="on"
    )

    availability = availability_of(org_a, gp)
    assert availability.accepting == Availability.Accepting.NO
    assert availability.capacity is None and availability.age_groups == []
    assert availability.home_visits is False
    page = linked.get(response.url).content.decode()
    assert "vous n&#x27;acceptez pas de nouveaux patients" in page


def test_it_touches_only_his_organisations_declaration(linked, org_a, org_b, gp):
    AvailabilityFactory(organisation=org_b, professional=gp, accepting="no")

    declare(linked, accepting="now", capacity="2")

    assert availability_of(org_b, gp).accepting == "no"
    assert availability_of(org_a, gp).accepting == "now"


# --- Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"accepting": "now", "capacity": "0"}, "supérieure ou égale à 1"),
        ({"accepting": "now", "capacity": "5001"}, "inférieure ou égale à 5000"),
        ({"accepting": "now", "capacity": "beaucoup"}, "Saisissez un nombre entier."),
        ({"capacity": "4"}, "Choisissez une réponse."),
        ({"accepting": "peut-être"}, "Sélectionnez un choix valide."),
        ({"accepting": "now", "age_groups": ["bébés"]}, "Sélectionnez un choix valide."),
    ],
)
def test_bad_input_is_refused_in_french_and_records_nothing(linked, org_a, gp, data, message):
    response = declare(linked, **data)

    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'id="disponibilite-erreurs"' in page
    assert availability_of(org_a, gp) is None
    assert not events(Action.CREATE)


@pytest.mark.parametrize("capacity", [0, 5001, -3])
def test_the_service_refuses_a_capacity_out_of_range(org_a, gp, capacity):
    with pytest.raises(ValidationError) as refused:
        availability_declare(
            organisation=org_a,
            professional=gp,
            accepting="now",
            capacity=capacity,
            validity_months=6,
            source=Source.PROFESSIONAL,
        )
    assert refused.value.messages == ["Le nombre de patients va de 1 à 5000."]
    assert availability_of(org_a, gp) is None


def test_the_service_refuses_an_unknown_age_group_or_validity(org_a, gp):
    common = {"organisation": org_a, "professional": gp, "source": Source.PROFESSIONAL}
    with pytest.raises(ValidationError, match="Tranche d'âge inconnue"):
        availability_declare(accepting="now", age_groups=["babies"], validity_months=6, **common)
    with pytest.raises(ValidationError, match="va de 1 à 36 mois"):
        availability_declare(accepting="now", validity_months=0, **common)
    assert availability_of(org_a, gp) is None


# --- Who may declare -----------------------------------------------------------------------


def test_an_account_without_link_is_told_in_french(client, dr_martin, org_a):
    client.force_login(dr_martin)

    response = declare(client, accepting="now", capacity="5")

    assert response.status_code == 302 and response.url == HOME
    page = client.get(HOME).content.decode()
    assert "Votre compte n&#x27;est pas encore relié à votre fiche de médecin" in page
    with scopes_disabled():
        assert not Availability.objects.exists()


def test_a_visitor_is_sent_to_the_login_page(client, org_a, gp):
    response = declare(client, accepting="now")

    assert response.status_code == 302
    assert reverse("account_login") in response.url
    assert availability_of(org_a, gp) is None


def test_a_coordinator_cannot_declare_for_a_gp(client, claire, org_a, gp):
    client.force_login(claire)

    assert declare(client, accepting="now").status_code == 403
    assert availability_of(org_a, gp) is None


# --- The pool of the search ----------------------------------------------------------------


def test_a_gp_who_declares_now_enters_the_ranking_and_no_takes_him_out(linked, org_a, gp):
    assert gp.pk not in nearby(org_a)

    declare(linked, accepting="now", capacity="5")
    assert gp.pk in nearby(org_a)

    declare(linked, accepting="no")
    assert gp.pk not in nearby(org_a)
