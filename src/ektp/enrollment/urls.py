from django.urls import path

from ektp.enrollment import views

app_name = "enrollment"

urlpatterns = [
    path("", views.find, name="find"),
    path("harian/", views.daily, name="daily"),
    path("<str:nik>/rekam/", views.record, name="record"),
    path("<str:nik>/kirim/", views.send, name="send"),
    path("<str:nik>/riwayat/", views.history, name="history"),
    path("<str:nik>/penunggalan/", views.penunggalan_status, name="penunggalan"),
]
