from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "ektp.core"
    verbose_name = _("Inti")

    def ready(self) -> None:
        from ektp.core import signals  # noqa: F401  (connects the audit receivers)
