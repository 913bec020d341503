from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "ektp.partners"
    verbose_name = _("Data mitra (KUA, KPU, IKD)")

    def ready(self) -> None:
        from ektp.partners import receivers  # noqa: F401 - tells card holders how to activate IKD
