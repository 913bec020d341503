from django.urls import path

from ektp.partners import views

app_name = "partners"

urlpatterns = [
    path("", views.imports, name="imports"),
    path("impor/<uuid:pk>/", views.preview, name="preview"),
    path("impor/<uuid:pk>/terapkan/", views.apply, name="apply"),
    path("impor/<uuid:pk>/batalkan/", views.discard, name="discard"),
    path("pemilihan/<uuid:pk>/", views.election, name="election"),
    path("pemilihan/<uuid:pk>/ekspor.<str:fmt>", views.election_export, name="election_export"),
    path("ikd/", views.ikd, name="ikd"),
]
