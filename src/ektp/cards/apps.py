from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CardsConfig(AppConfig):
    name = "ektp.cards"
    verbose_name = _("Pencetakan dan blangko")
