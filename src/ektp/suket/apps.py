from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuketConfig(AppConfig):
    name = "ektp.suket"
    verbose_name = _("Surat keterangan")

    def ready(self) -> None:
        from ektp.suket import checks, receivers  # noqa: F401 - registers checks and receivers
