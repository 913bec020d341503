from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NaskahConfig(AppConfig):
    name = "ektp.naskah"
    verbose_name = _("Naskah dinas")
