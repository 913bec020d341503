from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "ektp.sync"
    verbose_name = _("Sinkronisasi perangkat lapangan")
