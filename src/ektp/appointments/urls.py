from django.urls import path

from ektp.appointments import views

app_name = "appointments"

urlpatterns = [
    path("", views.index, name="index"),
    path("titik/<uuid:pk>/", views.point_day, name="point"),
    path("titik/<uuid:pk>/gerbang/", views.gate, name="gate"),
    path("titik/<uuid:pk>/undangan/", views.invitations, name="invitations"),
    path("titik/<uuid:pk>/tidak-hadir/", views.report, name="report"),
    path("tiket/<uuid:pk>/", views.ticket, name="ticket"),
    path("loket/<uuid:pk>/", views.counter, name="counter"),
    path("undangan/<uuid:pk>/", views.batch, name="batch"),
]
