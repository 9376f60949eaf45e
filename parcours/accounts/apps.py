from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "parcours.accounts"
    label = "accounts"
    verbose_name = _("Comptes et organisations")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (login audit events from allauth/Django)
