import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from parcours.accounts.models import Membership, Organisation, Role, User
from parcours.audit.models import AuditEvent
from parcours.core.demo import DEMO_ACCOUNTS, DEMO_GP_COUNT, demo_totp_codes
from parcours.directory.models import Availability, PracticeSituation, Professional, SearchEntry
from parcours.directory.tests.directory_factories import ProfessionalFactory
from parcours.matching.models import ProfessionalAccount
from parcours.matching.ranking import pool
from parcours.territory.models import Commune, PriorityNeighbourhood, Territory

pytestmark = pytest.mark.django_db


MODELS = (
    Organisation,
    User,
    Membership,
    Territory,
    PriorityNeighbourhood,
    Commune,
    AuditEvent,
    Professional,
    PracticeSituation,
    Availability,
    ProfessionalAccount,
    SearchEntry,
)


def counts():
    with scopes_disabled():
        return {model.__name__: model.objects.count() for model in MODELS}


def test_it_builds_the_venissieux_demo_with_every_role():
    call_command("load_demo")
    with scopes_disabled():
        territory = Territory.objects.get(organisation__slug="cpts-venissieux")
        assert territory.communes.filter(insee="69259", latitude__isnull=False).exists()
        roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    assert {email for email, _, code in demo_totp_codes() if len(code) == 6} >= {
        a.email for a in DEMO_ACCOUNTS if a.role in ("coordinator", "manager", "administrator")
    }


def test_running_it_twice_changes_nothing():
    call_command("load_demo")
    before = counts()
    call_command("load_demo")
    assert counts() == before


def test_it_refuses_outside_demo_mode(settings):
    settings.DEMO = False
    with pytest.raises(Exception, match="PARCOURS_DEMO"):
        call_command("load_demo")


def test_demo_people_are_synthetic():
    call_command("load_demo")
    emails = User.objects.values_list("email", flat=True)
    assert all(email.endswith("@demo.parcours.localhost") for email in emails)
    situations = PracticeSituation.objects.values_list("email", flat=True)
    assert all(email.endswith("@demo.parcours.localhost") for email in situations)
    assert all(
        rpps.startswith("99") for rpps in Professional.objects.values_list("rpps", flat=True)
    )


def test_it_gives_the_demo_territory_a_gp_pool_and_a_gp_account():
    ProfessionalFactory()  # professionals' and practice situations' ids now differ
    call_command("load_demo")
    with scopes_disabled():
        organisation = Organisation.objects.get(slug="cpts-venissieux")
        communes = set(
            Territory.objects.get(organisation=organisation).communes.values_list("pk", flat=True)
        )
        gps = Professional.objects.filter(rpps__startswith="99")
        assert gps.count() == DEMO_GP_COUNT
        assert (
            set(
                PracticeSituation.objects.filter(professional__in=gps).values_list(
                    "commune_id", flat=True
                )
            )
            <= communes
        )
        assert PracticeSituation.objects.filter(latitude__isnull=True).count() == 0
        assert Availability.objects.filter(organisation=organisation).count() == DEMO_GP_COUNT
        assert pool(organisation=organisation).count() >= DEMO_GP_COUNT // 2
        account = ProfessionalAccount.objects.get(user__email="medecin@demo.parcours.localhost")
        assert account.professional.rpps.startswith("99")
        indexed = SearchEntry.objects.filter(kind="professional", professional__in=gps)
        assert indexed.count() == DEMO_GP_COUNT
