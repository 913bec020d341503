from django.urls import path

from ektp.appointments import views

app_name = "booking"

urlpatterns = [
    path("", views.identify, name="identify"),
    path("pilih/", views.choose, name="choose"),
    path("pesan/", views.book, name="book"),
    path("kode/<str:code>/", views.detail, name="detail"),
    path("kode/<str:code>/pindah/", views.move, name="move"),
    path("kode/<str:code>/batal/", views.cancel, name="cancel"),
    path("papan/<uuid:pk>/", views.board, name="board"),
    path("papan/<uuid:pk>/isi/", views.board_fragment, name="board_rows"),
]
