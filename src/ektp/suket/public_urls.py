from django.urls import path

from ektp.suket import views

app_name = "verify"

urlpatterns = [
    path("<path:number>", views.verify, name="verify"),
]
