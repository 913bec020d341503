from django.contrib import admin

from ektp.coverage.models import CoveragePolicy, CoverageSnapshot, Target


@admin.register(CoveragePolicy)
class CoveragePolicyAdmin(admin.ModelAdmin):
    list_display = ["region", "green_min", "yellow_min", "valid_from", "valid_to"]


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["name", "population", "region", "rate", "due_date"]


@admin.register(CoverageSnapshot)
class CoverageSnapshotAdmin(admin.ModelAdmin):
    list_display = ["region_code", "day", "wajib_ktp", "recorded"]
    list_filter = ["level"]
