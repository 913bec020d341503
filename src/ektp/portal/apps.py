from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "ektp.portal"
    verbose_name = _("Cek status KTP-el")

    def ready(self) -> None:
        from ektp.portal.cache import create_cache_table

        # Every `migrate` (and so `make demo` and the test database) creates the table of
        # the shared cache that holds the rate-limit counters.
        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="ektp-cache-table")
