"""Middleware of the staff pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ektp.core.access import RegionNotChosen


class RegionChoiceMiddleware:
    """Answer a RegionNotChosen with a page that lists the kab/kota to choose from."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, RegionNotChosen):
            return None
        links = []
        for code, name in exception.choices:
            query = request.GET.copy()
            query[exception.param] = code
            links.append({"url": f"{request.path}?{query.urlencode()}", "code": code, "name": name})
        return render(
            request, "core/choose_region.html", {"message": exception.message, "links": links}
        )
