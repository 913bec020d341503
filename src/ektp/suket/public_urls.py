from django.urls import path

from ektp.suket import views

app_name = "verify"

urlpatterns = [
    path("", views.verify_form, name="form"),
    path("<path:number>", views.verify, name="verify"),
]
