"""The demo territory: the CPTS of Vénissieux (69259) with synthetic people.

Every name below is SYNTHETIC (Faker fr_FR with a fixed seed): no real person. Running the
loader twice changes nothing: rows are found by natural keys before being created.
"""

from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django_scopes import scopes_disabled
from faker import Faker

from parcours.accounts.models import STAFF_ROLES, Membership, Organisation, Role, User
from parcours.accounts.services import email_mark_verified
from parcours.audit.models import Action
from parcours.audit.services import audit_log
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
        territory_load_demo(organisation=organisation)
        fake = Faker("fr_FR")
        fake.seed_instance(69259)
        accounts = [(account.email, account.role) for account in DEMO_ACCOUNTS]
        for index, role in enumerate(SYNTHETIC_MEMBERS, start=1):
            accounts.append((f"membre{index:02d}@demo.parcours.localhost", role))
        for email, role in accounts:
            _demo_member(organisation, email, role, fake.first_name(), fake.last_name())
    return organisation


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
