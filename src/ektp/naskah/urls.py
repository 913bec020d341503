from django.urls import path

from ektp.naskah import views

app_name = "naskah"

urlpatterns = [
    path("permohonan/<uuid:request_id>/", views.request_letter, name="request_letter"),
    path("tanda-terima/<uuid:card_id>/", views.receipt, name="receipt"),
    path("rekap-harian/", views.daily_report, name="daily"),
]
