"""allauth and axes integration: closed signup (invitation only), usernames for axes."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False  # accounts are created by an administrator's invitation


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
