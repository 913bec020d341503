from django.contrib import admin

from ektp.dedup.models import DuplicateCase


@admin.register(DuplicateCase)
class DuplicateCaseAdmin(admin.ModelAdmin):
    list_display = ("created_at", "resident", "candidate", "source", "status", "decided_by")
    list_filter = ("status", "source")
    search_fields = ("resident__nik", "candidate__nik")
    raw_id_fields = ("resident", "candidate", "enrollment", "decided_by")
    readonly_fields = [f.name for f in DuplicateCase._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
