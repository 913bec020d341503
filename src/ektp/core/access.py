"""Role checks and jurisdiction filters shared by every app."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.urls import Resolver404, resolve

from ektp.core.models import Role, User


class RegionNotChosen(Exception):
    """A page about one kab/kota, opened by staff who see several without saying which.

    Raised by a view like Http404; RegionChoiceMiddleware answers it with the list of
    `choices` ((code, name) pairs), each a link to the same page with `param` set.
    """

    def __init__(self, message: str, choices, *, param: str = "kab"):
        super().__init__(message)
        self.message = message
        self.choices = list(choices)
        self.param = param


def role_required(*roles: str) -> Callable:
    """Let only logged-in staff with one of these roles (or a system admin) through."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.user.role not in roles and request.user.role != Role.SYSTEM_ADMIN:
                raise PermissionDenied("Peran Anda tidak diizinkan membuka halaman ini.")
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = frozenset(roles) | {Role.SYSTEM_ADMIN}  # read by the menu
        return wrapped

    return decorator


def may_open(role: str, path: str) -> bool:
    """Tell whether a page's view lets this role in (by its role_required), from its path.

    A path that does not resolve is not offered; a view without role_required is open."""
    try:
        func = resolve(path).func
    except Resolver404:
        return False
    allowed = getattr(func, "allowed_roles", None)
    return allowed is None or role in allowed


def jurisdiction_q(user: User, *, kabkota_field: str, province_field: str) -> Q:
    """Return the filter that limits rows to the user's jurisdiction."""
    code = user.jurisdiction_code
    if code is None:
        return Q()
    if "." in code:
        return Q(**{kabkota_field: code})
    return Q(**{province_field: code})


def within_jurisdiction(user: User, region_code: str) -> bool:
    """Tell whether a region code lies inside the user's jurisdiction."""
    code = user.jurisdiction_code
    return code is None or region_code == code or region_code.startswith(code + ".")


def limit_to_jurisdiction(qs: QuerySet, user: User) -> QuerySet:
    """Filter a queryset of objects that carry kabkota_code and province_code."""
    return qs.filter(
        jurisdiction_q(user, kabkota_field="kabkota_code", province_field="province_code")
    )
