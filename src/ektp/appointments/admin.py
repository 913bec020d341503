from django.contrib import admin

from ektp.appointments.models import (
    Booking,
    Counter,
    Invitation,
    InvitationBatch,
    QueueTicket,
    TimeWindow,
)


@admin.register(TimeWindow)
class TimeWindowAdmin(admin.ModelAdmin):
    list_display = ("service_point", "day", "starts_at", "ends_at", "capacity", "booked")
    list_filter = ("day",)


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ("code", "resident", "window", "queue_number", "status", "source")
    list_filter = ("status", "source")
    search_fields = ("code", "resident__nik")
    raw_id_fields = ("resident", "booked_by", "window")


@admin.register(InvitationBatch)
class InvitationBatchAdmin(admin.ModelAdmin):
    list_display = ("service_point", "kind", "village", "first_day", "created_at", "skipped")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("batch", "resident", "booking", "delivery")
    raw_id_fields = ("resident", "booking")


@admin.register(Counter)
class CounterAdmin(admin.ModelAdmin):
    list_display = ("name", "service_point", "is_active")


@admin.register(QueueTicket)
class QueueTicketAdmin(admin.ModelAdmin):
    list_display = ("label", "service_point", "day", "priority", "status", "counter")
    list_filter = ("status", "series", "priority")
    raw_id_fields = ("booking", "resident", "window")
