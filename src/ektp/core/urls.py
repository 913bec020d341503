from django.urls import path

from ektp.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("masuk/", views.LoginView.as_view(), name="login"),
    path("keluar/", views.LogoutView.as_view(), name="logout"),
    path("masuk/kode/", views.otp_verify, name="otp_verify"),
    path("masuk/autentikator/", views.otp_enrol, name="otp_enrol"),
    path("tugas/<uuid:job_id>/", views.job, name="job"),
    path("tentang/", views.about, name="about"),
    path("healthz", views.healthz, name="healthz"),
]
