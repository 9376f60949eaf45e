"""allauth and axes integration: closed signup (invitation only), usernames for axes."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False  # accounts are created by an administrator's invitation

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        # Setting up the FIRST second factor happens right after the password login (staff
        # are sent there before anything else): asking for the password again would only
        # confuse. Changing or removing an existing factor still asks for it.
        request = self.request
        if app == "allauth.mfa" and request is not None and request.user.is_authenticated:
            from .selectors import user_has_second_factor

            if not user_has_second_factor(user=request.user):
                return False
        return super().is_reauthentication_required(app=app, **kwargs)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        # Single sign-on only logs in an existing (invited) account, matched by e-mail.
        return False


def axes_username(request, credentials: dict | None) -> str:
    """The login identifier axes counts failures against (allauth posts it as `login`)."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username") or credentials.get("login")
    if not value and request is not None:
        value = request.POST.get("login", "")
    return (value or "").strip().lower()
