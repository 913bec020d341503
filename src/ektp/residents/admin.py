from django.contrib import admin

from ektp.residents.models import Family, Resident


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    list_display = ("nik", "name", "birth_date", "sex", "address_region", "ktp_status")
    search_fields = ("nik", "name")
    list_filter = ("ktp_status", "sex", "life_status")
    raw_id_fields = ("address_region", "family", "created_by")


@admin.register(Family)
class FamilyAdmin(admin.ModelAdmin):
    list_display = ("kk_number", "address_region", "issued_on")
    search_fields = ("kk_number",)
    raw_id_fields = ("address_region",)
