from django.urls import path

from ektp.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.status, name="status"),
    path("akses/<str:ref>/", views.access, name="access"),
    path("akses/<str:ref>/dokumen/", views.document, name="document"),
]
