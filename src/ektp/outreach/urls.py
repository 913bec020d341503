from django.urls import path

from ektp.outreach import views

app_name = "outreach"

urlpatterns = [
    path("", views.home, name="home"),
    path("desa/<str:village>/", views.target_list, name="target_list"),
    path(
        "desa/<str:village>/ekspor.<str:fmt>",
        views.target_list_export,
        name="target_list_export",
    ),
    path("kunjungan/baru/", views.plan, name="plan"),
    path("rute/", views.route_plan, name="route"),
    path("kunjungan/<uuid:pk>/hasil/", views.result, name="result"),
    path("penutupan/baru/", views.close, name="close"),
    path("zona/", views.zones, name="zones"),
]
