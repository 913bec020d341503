from django.urls import path

from ektp.coverage import views

app_name = "coverage"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("peringkat/", views.ranking, name="ranking"),
    path("ekspor.<str:fmt>", views.export, name="export"),
    path("peta.json", views.map_shapes, name="map"),
    path("belum-rekam/", views.unrecorded, name="unrecorded"),
    path("belum-rekam/ekspor.<str:fmt>", views.unrecorded_export, name="unrecorded_export"),
    path("target/", views.targets, name="targets"),
    path("target/<uuid:pk>/", views.target_detail, name="target_detail"),
    path("plotly-<str:version>.css", views.plotly_css, name="plotly_css"),
    path("plotly-<str:version>.min.js", views.plotly_js, name="plotly_js"),
]
