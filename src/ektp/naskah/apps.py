from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NaskahConfig(AppConfig):
    name = "ektp.naskah"
    verbose_name = _("Naskah dinas")

    def ready(self) -> None:
        from ektp.naskah import receivers  # noqa: F401 - numbers letters when they are issued
