from django.urls import path

from ektp.dedup import views

app_name = "dedup"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("pindai/", views.scan, name="scan"),
    path("model/", views.models, name="models"),
    path("gagal/<str:failure_id>/ulangi/", views.rerun, name="rerun"),
    path("tertahan/<str:enrollment_id>/kirim-ulang/", views.requeue, name="requeue"),
    path("<str:case_id>/", views.case_detail, name="case"),
]
