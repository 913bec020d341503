from django.urls import path

from ektp.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("berhenti/<str:token>/", views.opt_out, name="opt_out"),
    path("penduduk/<str:nik>/", views.preferences, name="preferences"),
]
