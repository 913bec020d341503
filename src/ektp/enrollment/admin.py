from django.contrib import admin

from ektp.enrollment.models import BiometricException, Enrollment, StatusChange


class ExceptionInline(admin.TabularInline):
    model = BiometricException
    extra = 0
    can_delete = False


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ("resident", "service_point", "captured_at", "penunggalan")
    list_filter = ("penunggalan",)
    readonly_fields = [f.name for f in Enrollment._meta.fields]
    inlines = [ExceptionInline]

    def has_add_permission(self, request):
        return False


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ("resident", "from_status", "to_status", "reason", "actor", "at")
    readonly_fields = [f.name for f in StatusChange._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
