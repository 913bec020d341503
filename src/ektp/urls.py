"""Root URL configuration."""

from django.contrib import admin
from django.urls import include, path

from ektp.api import api

urlpatterns = [
    # The public status inquiry first: it is the busiest page, and URLs resolve in order.
    path("cek/", include("ektp.portal.urls")),
    path("", include("ektp.core.urls")),
    path("wilayah/", include("ektp.regions.urls")),
    path("penduduk/", include("ektp.residents.urls")),
    path("kantor/", include("ektp.offices.urls")),
    path("perekaman/", include("ektp.enrollment.urls")),
    path("cetak/", include("ektp.cards.urls")),
    path("cakupan/", include("ektp.coverage.urls")),
    path("jemput-bola/", include("ektp.outreach.urls")),
    path("mitra/", include("ektp.partners.urls")),
    path("penunggalan/", include("ektp.dedup.urls")),
    path("suket/", include("ektp.suket.urls")),
    path("naskah/", include("ektp.naskah.urls")),
    path("sinkron/", include("ektp.sync.urls")),
    path("verify/", include("ektp.suket.public_urls")),
    path("antrean/", include("ektp.appointments.urls")),
    path("janji/", include("ektp.appointments.public_urls")),
    path("notifikasi/", include("ektp.notifications.urls")),
    path("webhook/whatsapp/", include("ektp.notifications.webhook_urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

handler404 = "ektp.core.views.page_not_found"
handler500 = "ektp.core.views.server_error"
handler403 = "ektp.core.views.permission_denied"
