from django.urls import path

from ektp.suket import views

app_name = "suket"

urlpatterns = [
    path("", views.suket_list, name="list"),
    path("terbitkan/", views.issue_view, name="issue"),
    path("ringkasan/", views.outstanding, name="outstanding"),
    path("<uuid:suket_id>/", views.detail, name="detail"),
    path("<uuid:suket_id>/cabut/", views.revoke_view, name="revoke"),
    path("<uuid:suket_id>/pdf/", views.pdf, name="pdf"),
]
