from django.contrib import admin

from ektp.outreach.models import OutreachVisit, SpecialNeed, ZoneClosure


@admin.register(OutreachVisit)
class OutreachVisitAdmin(admin.ModelAdmin):
    list_display = ["village", "date", "service_point", "status", "recorded_people"]
    list_filter = ["status"]


@admin.register(ZoneClosure)
class ZoneClosureAdmin(admin.ModelAdmin):
    list_display = ["region", "starts_on", "ends_on", "reason"]


@admin.register(SpecialNeed)
class SpecialNeedAdmin(admin.ModelAdmin):
    list_display = ["resident", "kind", "created_at"]
    raw_id_fields = ["resident"]
