"""Request middleware: session limits, the request's organisation (tenant scope), second factor."""

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from . import selectors

SESSION_STARTED_KEY = "parcours_session_started"
ORGANISATION_KEY = "parcours_organisation_id"


class SessionLimitMiddleware:
    """End a session after SESSION_MAX_HOURS whatever the activity.

    The idle limit is Django's own: SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(timezone.now().timestamp())
            started = request.session.setdefault(SESSION_STARTED_KEY, now)
            if now - started > settings.SESSION_MAX_HOURS * 3600:
                logout(request)
                return redirect(settings.LOGIN_URL)
        return self.get_response(request)


class OrganisationMiddleware:
    """Attach ``request.membership`` / ``request.organisation`` and open the tenant scope.

    Every query on an organisation's data made while handling the request is then limited
    by django-scopes to that organisation; outside a scope such a query raises.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        membership = None
        if request.user.is_authenticated:
            membership = selectors.membership_current(
                user=request.user, organisation_id=request.session.get(ORGANISATION_KEY)
            )
        request.membership = membership
        request.organisation = membership.organisation if membership else None
        # Without an organisation (visitors, users without membership) the scope is left
        # empty, so that any query on an organisation's data raises: django-scopes would
        # NOT filter at all for organisation=None.
        tenant = {"organisation": request.organisation} if request.organisation else {}
        with scope(**tenant):
            return self.get_response(request)


class SecondFactorRequiredMiddleware:
    """Staff roles must have a TOTP authenticator: until they do, send them to set it up."""

    ALLOWED_URL_NAMES = (
        "mfa_activate_totp",
        "account_logout",
        "mfa_index",
        "mfa_generate_recovery_codes",
        "mfa_view_recovery_codes",
        "mfa_download_recovery_codes",
    )

    def __init__(self, get_response):
        self.get_response = get_response
        self._allowed_paths: set[str] | None = None

    def __call__(self, request):
        membership = getattr(request, "membership", None)
        if membership is not None and membership.requires_second_factor:
            if (
                not request.path.startswith(settings.STATIC_URL)
                and request.path not in self.allowed_paths()
            ):
                if not selectors.user_has_second_factor(user=request.user):
                    return redirect("mfa_activate_totp")
        return self.get_response(request)

    def allowed_paths(self) -> set[str]:
        if self._allowed_paths is None:
            self._allowed_paths = {reverse(name) for name in self.ALLOWED_URL_NAMES}
        return self._allowed_paths
