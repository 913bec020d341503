from django.urls import path

from ektp.offices import views

app_name = "offices"

urlpatterns = [
    path("", views.point_list, name="points"),
    path("persiapan/", views.setup, name="setup"),
    path("persiapan/kop-surat/", views.letterhead, name="letterhead"),
    path("titik/baru/", views.point_new, name="point_new"),
    path("titik/<uuid:pk>/", views.point_detail, name="point"),
    path("titik/<uuid:pk>/ubah/", views.point_edit, name="point_edit"),
    path("titik/<uuid:pk>/jam/", views.working_hours, name="working_hours"),
    path("titik/<uuid:pk>/loket/", views.counters, name="counters"),
    path("titik/<uuid:pk>/perangkat/", views.device_new, name="device_new"),
    path("titik/<uuid:pk>/kalender/", views.calendar, name="calendar"),
    path("perangkat/<uuid:pk>/", views.device_detail, name="device"),
    path("perangkat/<uuid:pk>/status/", views.device_status, name="device_status"),
    path("staf/", views.staff_list, name="staff"),
    path("staf/baru/", views.staff_new, name="staff_new"),
    path("staf/<int:pk>/", views.staff_detail, name="staff_detail"),
]
