import factory
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django_scopes import scopes_disabled

from parcours.accounts.models import STAFF_ROLES, Membership, Organisation, Role, User
from parcours.accounts.services import email_mark_verified

TEST_PASSWORD = "Motdepasse-de-test-42"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"CPTS Test {n}")
    slug = factory.Sequence(lambda n: f"cpts-test-{n}")
    kind = Organisation.Kind.CPTS


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password(TEST_PASSWORD)


def member(
    organisation: Organisation,
    role: Role | str,
    email: str | None = None,
    totp_secret: str | None = None,
    **user_fields,
) -> User:
    """A user with a membership; staff get a TOTP authenticator (secret on user.totp_secret)."""
    user = UserFactory(**({"email": email} if email else {}), **user_fields)
    email_mark_verified(user=user)
    with scopes_disabled():
        Membership.objects.create(organisation=organisation, user=user, role=role)
    user.totp_secret = None
    if role in STAFF_ROLES:
        user.totp_secret = totp_secret or generate_totp_secret()
        TOTP.activate(user, user.totp_secret)
    return user
