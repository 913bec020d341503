from django.urls import path

from ektp.sync import views

app_name = "sync"

urlpatterns = [
    path("perangkat/", views.devices, name="devices"),
    path("perangkat/<uuid:pk>/<str:action>/", views.device_action, name="device_action"),
    path("paket/<str:packet_id>/<str:accept>/", views.decide, name="decide"),
    path("lapangan/", views.edge_status, name="edge_status"),
]
