from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "ektp.portal"
    verbose_name = _("Cek status KTP-el")
