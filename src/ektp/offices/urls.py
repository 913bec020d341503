from django.urls import path

from ektp.offices import views

app_name = "offices"

urlpatterns = [
    path("", views.point_list, name="points"),
    path("titik/<uuid:pk>/", views.point_detail, name="point"),
    path("titik/<uuid:pk>/kalender/", views.calendar, name="calendar"),
    path("perangkat/<uuid:pk>/", views.device_detail, name="device"),
    path("perangkat/<uuid:pk>/status/", views.device_status, name="device_status"),
]
