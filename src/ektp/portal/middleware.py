"""Answer a request whose rate-limit counters cannot be reached: the service is briefly
unavailable (503 with a Retry-After), not "too many requests"."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from ektp.portal.limits import CountersUnavailable


class CountersUnavailableMiddleware:
    """Turn CountersUnavailable, raised by a page or an API handler, into a 503: a page in
    Bahasa Indonesia, or a JSON body under /api/."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, CountersUnavailable):
            return None
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": exception.message}, status=503)
        else:
            response = render(
                request, "portal/unavailable.html", {"message": exception.message}, status=503
            )
        response["Retry-After"] = str(exception.retry_after)
        response["Cache-Control"] = "no-store"
        return response
