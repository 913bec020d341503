from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OfficesConfig(AppConfig):
    name = "ektp.offices"
    verbose_name = _("Kantor dan titik layanan")
