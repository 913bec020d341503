from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def create_cache_table(*, using: str = "default", **kwargs) -> None:
    """Create the table of a cache kept in the database (EKTP_CACHE=database) after `migrate`;
    nothing when no cache is."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class CoreConfig(AppConfig):
    name = "ektp.core"
    verbose_name = _("Inti")

    def ready(self) -> None:
        from ektp.core import signals  # noqa: F401  (connects the audit receivers)

        # Every `migrate` (and so `make demo` and the test database) creates the table of a
        # cache kept in the database, which may hold the rate-limit counters.
        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="ektp-cache-table")
