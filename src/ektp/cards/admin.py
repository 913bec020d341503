from django.contrib import admin

from ektp.cards.models import (
    Blank,
    BlankRequest,
    CardPolicy,
    CardPrint,
    LedgerEntry,
    ReprintRequest,
)


@admin.register(CardPolicy)
class CardPolicyAdmin(admin.ModelAdmin):
    list_display = ("office", "lead_time_days", "target_cover_days", "election_date")


@admin.register(Blank)
class BlankAdmin(admin.ModelAdmin):
    """Read-only: blanks change only through the ledger services."""

    list_display = ("serial", "office", "service_point", "state", "updated_at")
    list_filter = ("state", "office")
    search_fields = ("serial",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(BlankAdmin):
    list_display = ("at", "kind", "office", "quantity", "serial_first", "serial_last", "actor")
    list_filter = ("kind", "office")
    search_fields = ("reference", "serial_first", "serial_last")


@admin.register(CardPrint)
class CardPrintAdmin(BlankAdmin):
    list_display = ("printed_at", "blank", "resident", "reason", "service_point", "handed_over_at")
    search_fields = ("blank__serial", "resident__nik")
    list_filter = ("reason",)


@admin.register(ReprintRequest)
class ReprintRequestAdmin(admin.ModelAdmin):
    list_display = ("created_at", "resident", "reason", "status", "office")
    list_filter = ("status", "reason")
    raw_id_fields = ("resident", "created_by", "service_point")


@admin.register(BlankRequest)
class BlankRequestAdmin(admin.ModelAdmin):
    list_display = ("created_at", "office", "quantity", "delivered_quantity", "status")
    list_filter = ("status",)
    readonly_fields = ("figures",)
