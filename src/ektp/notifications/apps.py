from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "ektp.notifications"
    verbose_name = _("Notifikasi")

    def ready(self) -> None:
        from ektp.notifications import receivers  # noqa: F401 - connects the receivers
