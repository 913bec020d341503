from django.urls import path

from ektp.residents import views

app_name = "residents"

urlpatterns = [
    path("", views.search, name="search"),
    path("baru/", views.create, name="create"),
    path("<str:nik>/", views.detail, name="detail"),
    path("<str:nik>/ubah/", views.edit, name="edit"),
]
