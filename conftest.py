"""Test set-up shared by every app: fast settings and the cast of characters.

The cast (as in healthchecks' alice/bob/charlie), so permission tests read like sentences:
- ``claire``: coordinator of organisation A (``org_a``); ``hugo``: her colleague coordinator;
- ``manon``: manager of A (figures only); ``alain``: administrator of A;
- ``dr_martin``: a GP (professional) member of A; ``ines``: a nurse (professional) of A;
- ``paul``: a partner of A; ``bruno``: coordinator of organisation B (``org_b``).
"""

import pytest
from django_scopes import scopes_disabled


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path_factory):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Uploads (imports, attachments) go to a throwaway folder, never the working tree.
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))
    settings.SITE_URL = "http://testserver"
    # allauth keeps used TOTP codes and rate limits in the cache: tests start clean.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def no_scope():
    """Test bodies may set up data across organisations; code under test opens its own scope."""
    with scopes_disabled():
        yield


@pytest.fixture
def org_a(db):
    from parcours.accounts.tests.factories import OrganisationFactory

    return OrganisationFactory(name="CPTS de Vénissieux", slug="cpts-venissieux")


@pytest.fixture
def org_b(db):
    from parcours.accounts.tests.factories import OrganisationFactory

    return OrganisationFactory(name="CPTS Strasbourg Nord", slug="cpts-strasbourg-nord")


def _cast_member(name: str, organisation: str, role: str, email: str, names: tuple[str, str]):
    """A member with fixed names: a random one could be a name a test says must not be shown
    (a person's), and which the page shows as the signed-in user's or the contact's."""

    @pytest.fixture(name=name)
    def fixture(request):
        from parcours.accounts.tests.factories import member

        first_name, last_name = names
        return member(
            request.getfixturevalue(organisation),
            role,
            email=email,
            first_name=first_name,
            last_name=last_name,
        )

    return fixture


claire = _cast_member("claire", "org_a", "coordinator", "claire@example.org", ("Claire", "Morel"))
hugo = _cast_member("hugo", "org_a", "coordinator", "hugo@example.org", ("Hugo", "Perrin"))
manon = _cast_member("manon", "org_a", "manager", "manon@example.org", ("Manon", "Roux"))
alain = _cast_member("alain", "org_a", "administrator", "alain@example.org", ("Alain", "Faure"))
dr_martin = _cast_member(
    "dr_martin", "org_a", "professional", "dr.martin@example.org", ("Jean", "Martin")
)
ines = _cast_member("ines", "org_a", "professional", "ines@example.org", ("Inès", "Girard"))
paul = _cast_member("paul", "org_a", "partner", "paul@example.org", ("Paul", "Lefèvre"))
bruno = _cast_member("bruno", "org_b", "coordinator", "bruno@example.org", ("Bruno", "Meyer"))
