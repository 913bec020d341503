"""The answer to a locked-out login: JSON for the API, a page for people."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

LOCKED_MESSAGE = (
    "Terlalu banyak percobaan masuk yang gagal; akun terkunci sementara. "
    "Silakan coba lagi setelah 15 menit, atau hubungi admin sistem."
)


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """Return 429 with a clear message in the form the client reads."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": LOCKED_MESSAGE}, status=429)
    return render(request, "core/locked_out.html", {"message": LOCKED_MESSAGE}, status=429)
