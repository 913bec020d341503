from django.contrib import admin

from ektp.offices.models import (
    Device,
    DeviceStatusChange,
    Office,
    ServicePoint,
    SpecialDay,
    WorkingHours,
)


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ("name", "region")


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


@admin.register(ServicePoint)
class ServicePointAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "office", "is_active", "per_kit_daily_throughput")
    list_filter = ("kind", "is_active")
    inlines = [WorkingHoursInline]


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("serial_number", "kind", "service_point", "status", "status_reason")
    list_filter = ("kind", "status")
    readonly_fields = ("status", "status_reason", "status_changed_at")


@admin.register(DeviceStatusChange)
class DeviceStatusChangeAdmin(admin.ModelAdmin):
    list_display = ("device", "from_status", "to_status", "reason", "changed_by", "changed_at")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SpecialDay)
class SpecialDayAdmin(admin.ModelAdmin):
    list_display = ("day", "office", "service_point", "is_open", "reason")
    list_filter = ("is_open",)
