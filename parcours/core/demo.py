"""The demo territory: the CPTS of Vénissieux (69259) with synthetic people.

Every name below is SYNTHETIC (Faker fr_FR with a fixed seed): no real person. Running the
loader twice changes nothing: rows are found by natural keys before being created.

The GP pool of the médecin traitant search: ``DEMO_GP_COUNT`` synthetic GPs (RPPS numbers
starting with "99", which the real register does not use; e-mails @demo.parcours.localhost)
practising near the centres of the demo communes, each with an availability declaration;
the demo account medecin@demo.parcours.localhost is the first of them.
"""

import datetime
from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled
from faker import Faker

from parcours.accounts.models import STAFF_ROLES, Membership, Organisation, Role, User
from parcours.accounts.services import email_mark_verified
from parcours.audit.models import Action
from parcours.audit.services import audit_log
from parcours.directory.models import (
    Availability,
    LocationPrecision,
    PracticeSituation,
    Professional,
    Source,
)
from parcours.directory.search import search_index_refresh
from parcours.directory.survey import add_months
from parcours.matching.models import ProfessionalAccount
from parcours.territory.services import territory_load_demo

DEMO_PASSWORD = "parcours-demo-2026"  # noqa: S105 (demo mode only, printed on purpose)
DEMO_ORGANISATION = {
    "slug": "cpts-venissieux",
    "name": "CPTS de Vénissieux (démo)",
    "kind": Organisation.Kind.CPTS,
}


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: Role


# One named account per role (the ones printed by `make run`), then synthetic colleagues.
DEMO_ACCOUNTS = [
    DemoAccount("coordination@demo.parcours.localhost", Role.COORDINATOR),
    DemoAccount("direction@demo.parcours.localhost", Role.MANAGER),
    DemoAccount("admin@demo.parcours.localhost", Role.ADMINISTRATOR),
    DemoAccount("medecin@demo.parcours.localhost", Role.PROFESSIONAL),
    DemoAccount("partenaire@demo.parcours.localhost", Role.PARTNER),
]
SYNTHETIC_MEMBERS = [Role.COORDINATOR] * 2 + [Role.PROFESSIONAL] * 8 + [Role.PARTNER] * 3
DEMO_GP_COUNT = 12
DEMO_GP_ACCOUNT = "medecin@demo.parcours.localhost"
# (accepting, capacity) of each synthetic GP in turn: most take new patients.
DEMO_GP_AVAILABILITY = [
    (Availability.Accepting.NOW, 5),
    (Availability.Accepting.NOW, 3),
    (Availability.Accepting.WITHIN_SIX_MONTHS, 2),
    (Availability.Accepting.NOW, 10),
    (Availability.Accepting.NO, None),
    (Availability.Accepting.NOW, 1),
]


def _require_demo_mode() -> None:
    if not settings.DEMO:
        raise ImproperlyConfigured(
            "The demo is only loaded with PARCOURS_DEMO on (never in production)."
        )


@transaction.atomic
def demo_load() -> Organisation:
    _require_demo_mode()
    with scopes_disabled():
        organisation, created = Organisation.objects.get_or_create(
            slug=DEMO_ORGANISATION["slug"], defaults=DEMO_ORGANISATION
        )
        if created:
            audit_log(
                action=Action.CREATE,
                organisation=organisation,
                obj=organisation,
                details={"demo": True},
            )
        territory = territory_load_demo(organisation=organisation)
        fake = Faker("fr_FR")
        fake.seed_instance(69259)
        accounts = [(account.email, account.role) for account in DEMO_ACCOUNTS]
        for index, role in enumerate(SYNTHETIC_MEMBERS, start=1):
            accounts.append((f"membre{index:02d}@demo.parcours.localhost", role))
        for email, role in accounts:
            _demo_member(organisation, email, role, fake.first_name(), fake.last_name())
        gps = _demo_gp_pool(organisation, territory)
        _demo_gp_account(gps[0])
    return organisation


def _demo_gp_pool(organisation: Organisation, territory) -> list[Professional]:
    """Synthetic GPs near the demo communes' centres, each with a declaration."""
    fake = Faker("fr_FR")
    fake.seed_instance(699)  # its own seed: the members' names above stay the same
    communes = list(territory.communes.filter(latitude__isnull=False).order_by("insee"))
    gps, new = [], []
    for index in range(DEMO_GP_COUNT):
        female = index % 2 == 0
        first = fake.first_name_female() if female else fake.first_name_male()
        last, street = fake.last_name(), fake.street_address()
        commune = communes[index % len(communes)]
        rpps = f"99{index + 1:09d}"
        gp, _created = Professional.objects.get_or_create(
            rpps=rpps,
            defaults={
                "civility_code": "DR",
                "civility": "Docteur",
                "first_name": first,
                "last_name": last.upper(),
                "sex": Professional.Sex.FEMALE if female else Professional.Sex.MALE,
                "profession_code": "10",
                "profession": "Médecin",
                "savoir_faire_code": "SM54",
                "savoir_faire": "Médecine générale (SM)",
                "languages": ["fr", "en"] if index % 3 == 0 else ["fr"],
                "source": Source.MANUAL,
            },
        )
        offset = (index // len(communes) + 1) * 0.003  # two GPs of a commune, not one point
        situation, created = PracticeSituation.objects.get_or_create(
            source_key=f"demo-{rpps}",
            defaults={
                "professional": gp,
                "mode": PracticeSituation.Mode.LIBERAL,
                "place_name": f"Cabinet médical {commune.name}",
                "address": street,
                "postal_code": (commune.postal_codes or [""])[0],
                "commune": commune,
                "latitude": commune.latitude + offset,
                "longitude": commune.longitude - offset,
                "location_precision": LocationPrecision.STREET,
                "phone": f"04 72 99 {index // 100:02d} {index % 100:02d}",
                "email": f"dr.{rpps}@demo.parcours.localhost",
                "source": Source.MANUAL,
            },
        )
        _demo_availability(organisation, gp, index)
        gps.append(gp)
        if created:
            new.append(situation.pk)
    if new:  # the annuaire finds them (its "professional" entries are practice situations)
        search_index_refresh(kind="professional", ids=new)
    return gps


def _demo_availability(organisation: Organisation, gp: Professional, index: int) -> None:
    """The GP's declaration; renewed when it expired (the demo keeps a live pool)."""
    today = timezone.localdate()
    accepting, capacity = DEMO_GP_AVAILABILITY[index % len(DEMO_GP_AVAILABILITY)]
    availability = Availability.objects.filter(organisation=organisation, professional=gp).first()
    if availability is not None and availability.expires_on >= today:
        return
    values = {
        "accepting": accepting,
        "capacity": capacity,
        "age_groups": ["adults", "seniors"] if index % 4 else ["children", "adults", "seniors"],
        "home_visits": index % 3 == 1,
        "declared_on": today - datetime.timedelta(days=index * 5),
        "expires_on": add_months(today, 6),
        "source": Source.SURVEY,
    }
    Availability.objects.update_or_create(
        organisation=organisation, professional=gp, defaults=values
    )


def _demo_gp_account(gp: Professional) -> None:
    """The demo GP account is the first synthetic GP (his own pages)."""
    user = User.objects.get(email=DEMO_GP_ACCOUNT)
    if not ProfessionalAccount.objects.filter(user=user).exists():
        ProfessionalAccount.objects.get_or_create(
            professional=gp, defaults={"user": user, "linked_at": timezone.now()}
        )


def _demo_member(organisation: Organisation, email: str, role: Role, first: str, last: str) -> None:
    user, created = User.objects.get_or_create(
        email=email, defaults={"first_name": first, "last_name": last}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        email_mark_verified(user=user)
    membership, created = Membership.objects.get_or_create(
        organisation=organisation, user=user, defaults={"role": role}
    )
    if created:
        audit_log(
            action=Action.CREATE,
            organisation=organisation,
            obj=membership,
            details={"role": role.value, "demo": True},
        )
    if (
        role in STAFF_ROLES
        and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    ):
        TOTP.activate(user, generate_totp_secret())


def demo_totp_codes() -> list[tuple[str, str, str]]:
    """(e-mail, TOTP secret, current code) of each demo staff account."""
    from allauth.mfa.adapter import get_adapter
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    _require_demo_mode()
    counter = next(yield_hotp_counters_from_time())
    rows = []
    authenticators = (
        Authenticator.objects.filter(
            type=Authenticator.Type.TOTP, user__email__endswith="@demo.parcours.localhost"
        )
        .select_related("user")
        .order_by("user__email")
    )
    for authenticator in authenticators:
        secret = get_adapter().decrypt(authenticator.data["secret"])
        rows.append(
            (authenticator.user.email, secret, format_hotp_value(hotp_value(secret, counter)))
        )
    return rows
