"""URL configuration. Every view has an explicit access rule (see accounts/access.py)."""

from django.urls import include, path
from django.views.i18n import set_language

from parcours.accounts.access import AUTHENTICATED, PUBLIC, access, declare_patterns
from parcours.accounts.models import Role
from parcours.api import urls as api_urls

# allauth's views: login, logout, password reset, second factor, single sign-on.
# Signup is closed (accounts are created by invitation); pages about one's own account
# need a login; the rest are the public steps of logging in.
ALLAUTH_MEMBER_PAGES = {
    name: (AUTHENTICATED,)
    for name in (
        "account_email",
        "account_change_password",
        "account_set_password",
        "account_reauthenticate",
        "account_logout",
        "mfa_index",
        "mfa_activate_totp",
        "mfa_deactivate_totp",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_download_recovery_codes",
        "mfa_reauthenticate",
        "socialaccount_connections",
    )
}
# Staff must keep their second factor: only professionals and partners may remove theirs.
ALLAUTH_MEMBER_PAGES["mfa_deactivate_totp"] = (Role.PROFESSIONAL, Role.PARTNER)


def _allauth_urls() -> list:
    from allauth import urls as allauth_urls

    return declare_patterns(
        allauth_urls.urlpatterns, default=(PUBLIC,), overrides=ALLAUTH_MEMBER_PAGES
    )


urlpatterns = [
    path("", include("parcours.core.urls")),
    path("comptes/", include(_allauth_urls())),
    path("", include("parcours.accounts.urls")),
    path("territoire/", include("parcours.territory.urls")),
    path("annuaire/", include("parcours.directory.urls")),
    path("personnes/", include("parcours.people.urls")),
    path("saisines/", include("parcours.saisines.urls")),
    path("medecin-traitant/", include("parcours.matching.urls")),
    # The language switch of the public pages (Django's view: POST sets the cookie).
    path("langue/", access(PUBLIC)(set_language), name="set_language"),
    path("audit/", include("parcours.audit.urls")),
    path("api/v1/", include((api_urls.urlpatterns, "api"))),
]
