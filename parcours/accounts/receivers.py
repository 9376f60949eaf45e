"""Login events from Django/allauth become audit events (the only signal receivers we keep:
logins happen inside allauth, which tells us through these signals)."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import services


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs) -> None:
    services.login_record(request=request, user=user)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    services.login_failed_record(request=request, credentials=credentials)
