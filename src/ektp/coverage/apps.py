from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoverageConfig(AppConfig):
    name = "ektp.coverage"
    verbose_name = _("Cakupan")

    def ready(self) -> None:
        from ektp.coverage import receivers  # noqa: F401 - keeps the cached counts true
