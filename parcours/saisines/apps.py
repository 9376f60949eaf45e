from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SaisinesConfig(AppConfig):
    name = "parcours.saisines"
    label = "saisines"
    verbose_name = _("Saisines")
