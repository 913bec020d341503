from django.urls import path

from ektp.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.status, name="status"),
    path("suket/<str:token>/", views.suket_download, name="suket_download"),
]
