from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from ektp.core.models import ApiToken, AuditEvent, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, ("ektp", {"fields": ("role", "region")}))
    list_display = ("username", "get_full_name", "role", "region", "is_active")
    list_filter = ("role", "is_active")
    raw_id_fields = ("region",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "action", "object_type", "object_id", "ip_address")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "user__username")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "created_at", "last_used_at", "revoked_at")
    exclude = ("key_hash",)
