from django.contrib import admin

from ektp.suket.models import Suket, SuketRule


@admin.register(SuketRule)
class SuketRuleAdmin(admin.ModelAdmin):
    list_display = ("title", "authority", "region", "mode", "purpose", "effective_from")
    list_filter = ("authority", "mode")
    search_fields = ("title", "purpose", "reference")


@admin.register(Suket)
class SuketAdmin(admin.ModelAdmin):
    """Read-only: suket change only through the services (issue, void, revoke)."""

    list_display = ("number", "name", "office", "status", "issued_at", "valid_until")
    list_filter = ("status", "reason", "office")
    search_fields = ("number", "nik")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
