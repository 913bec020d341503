from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "ektp.appointments"
    verbose_name = _("Janji layanan dan antrean")
