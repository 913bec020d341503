from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrollmentConfig(AppConfig):
    name = "ektp.enrollment"
    verbose_name = _("Perekaman")
