from django.urls import path

from ektp.notifications import views

app_name = "whatsapp"

urlpatterns = [path("", views.webhook, name="webhook")]
