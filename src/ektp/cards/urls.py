from django.urls import path

from ektp.cards import views

app_name = "cards"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("cetak/", views.print_view, name="print"),
    path("cetak-ulang/", views.reprint_request_view, name="reprint_request"),
    path("rekonsiliasi/", views.reconciliation, name="reconcile"),
    path("rekonsiliasi/<uuid:reservation_id>/", views.reconcile_view, name="reconcile_print"),
    path("kartu/<uuid:card_id>/serah/", views.hand_over_view, name="hand_over"),
    path("kartu/<uuid:card_id>/salah-cetak/", views.misprint_view, name="misprint"),
    path("stok/", views.stock, name="stock"),
    path("stok/terima/", views.receive_view, name="receive"),
    path("stok/pindah/", views.transfer_view, name="transfer"),
    path("stok/rusak/", views.spoil_view, name="spoil"),
    path("stok/opname/", views.count_view, name="count"),
    path("stok/pinjaman/<uuid:entry_id>/terima/", views.receive_loan_view, name="receive_loan"),
    path("ketahanan/", views.cover, name="cover"),
    path("ketahanan/permohonan/", views.draft_request_view, name="draft_request"),
    path("permohonan/<uuid:request_id>/", views.request_letter, name="letter"),
    path("permohonan/<uuid:request_id>/ajukan/", views.submit_request_view, name="submit_request"),
    path("provinsi/", views.province, name="province"),
]
