"""One DomainError: every app's errors derive from it; one handler answers the API, one the pages."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys

import pytest
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.urls import include, path

import ektp
from ektp.abis.errors import AbisUnavailable
from ektp.core.errors import DomainError
from ektp.core.models import Role
from ektp.offices.services import OfficeError
from tests.offices.factories import ServicePointFactory

pytestmark = pytest.mark.django_db

# Faults of the machinery, not refusals by a rule: they are logged and answered as a fault.
NOT_DOMAIN_ERRORS = {
    "ektp.core.keys.KeyStoreError": "the install's key files are missing or unreadable",
    "ektp.core.keys.MissingKeys": "the install's key files are missing or unreadable",
    "ektp.core.keys.BadKey": "the install's key files are missing or unreadable",
    "ektp.core.keys.BusyRotating": "a key rotation holds the key store",
    "ektp.core.access.RegionNotChosen": "a signal answered by RegionChoiceMiddleware",
    "ektp.core.backup.BackupError": "a backup or restore command failed",
    "ektp.core.worker.WorkerLost": "the background worker died",
    "ektp.notifications.channels.ChannelError": "an SMS or WhatsApp provider failed",
    "ektp.core.ratelimit.CountersUnavailable": "the rate-limit counters are unreachable",
    "ektp.cards.printers.PrinterError": "a card printer failed",
    "ektp.enrollment.crypto.BiometricKeyError": "the biometric key cannot decrypt",
    "ektp.sync.client.ServerUnreachable": "an edge unit cannot reach the office (no signal)",
}


def _every_ektp_exception() -> set[type[BaseException]]:
    for module in pkgutil.walk_packages(ektp.__path__, "ektp."):
        if module.name in ("ektp.__main__", "ektp.asgi", "ektp.wsgi"):
            continue
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found = set()
    for name, module in list(sys.modules.items()):
        if name == "ektp" or name.startswith("ektp."):
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__.startswith("ektp.") and issubclass(cls, BaseException):
                    found.add(cls)
    return found


def test_every_error_class_of_ektp_derives_from_domain_error():
    errors = _every_ektp_exception()
    outside = {
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in errors
        if not issubclass(cls, DomainError)
        and f"{cls.__module__}.{cls.__qualname__}" not in NOT_DOMAIN_ERRORS
    }
    assert outside == set()
    # The walk found the app roots, so it cannot pass by finding nothing.
    names = {cls.__name__ for cls in errors}
    assert {"CardsError", "DedupError", "AbisError", "AppointmentError", "SuketInvalid"} <= names


def test_domain_error_keeps_value_error_where_callers_catch_it():
    from ektp.cards.errors import NoBlankInStock
    from ektp.enrollment.services import EnrollmentError

    assert issubclass(NoBlankInStock, ValueError) and issubclass(EnrollmentError, ValueError)
    refused = NoBlankInStock("Blangko habis.")
    assert (refused.message, refused.rule, refused.status) == (
        "Blangko habis.",
        "no_blank_in_stock",
        409,
    )
    assert str(refused) == "Blangko habis."


def test_abis_errors_stay_free_of_django():
    import subprocess

    code = "import sys, ektp.abis.errors, ektp.abis.service; sys.exit(any(m.startswith('django') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def _auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_api_answers_a_domain_error_with_its_status_message_and_rule(client, api_token):
    response = client.get("/api/v1/regions/99", **_auth(api_token))
    assert response.status_code == 404
    assert response.json() == {
        "detail": "Wilayah dengan kode 99 tidak ditemukan.",
        "rule": "region_not_found",
    }


def test_api_answers_a_role_refusal_of_a_service_with_403(client, make_staff):
    from ektp.core.services import issue_api_token

    operator = make_staff(Role.OPERATOR)
    point = ServicePointFactory()
    response = client.post(
        f"/api/v1/offices/points/{point.pk}/special-days",
        {"day": "2020-12-09", "is_open": False, "reason": "Pilkada"},
        content_type="application/json",
        **_auth(issue_api_token(user=operator, name="uji")),
    )
    assert response.status_code == 403
    assert response.json()["rule"] == "role"
    assert "boleh" in response.json()["detail"]


def _refusing_view(request):
    if request.method == "POST" or request.GET.get("tolak"):
        raise OfficeError("Kantor ini berada di luar wilayah kerja Anda.")
    return HttpResponse("oke")


def _abis_down_view(request):
    raise AbisUnavailable("http://abis.invalid: connection refused")


urlpatterns = [
    path("uji/tolak/", _refusing_view),
    path("uji/abis/", _abis_down_view),
    path("", include("ektp.urls")),
]


@pytest.mark.urls(__name__)
def test_page_shows_an_unhandled_refusal_in_indonesian_not_a_500(operator_client):
    response = operator_client.get("/uji/tolak/?tolak=1")
    assert response.status_code == 422
    assert "Kantor ini berada di luar wilayah kerja Anda." in response.content.decode()


@pytest.mark.urls(__name__)
def test_refused_post_goes_back_to_its_page_with_the_message(operator_client):
    response = operator_client.post(
        "/uji/tolak/", HTTP_REFERER="http://testserver/uji/tolak/", follow=True
    )
    assert response.redirect_chain == [("http://testserver/uji/tolak/", 302)]
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert shown == ["Kantor ini berada di luar wilayah kerja Anda."]
    assert response.content.decode() == "oke"


@pytest.mark.urls(__name__)
def test_refused_post_from_another_site_is_not_redirected_there(operator_client):
    response = operator_client.post("/uji/tolak/", HTTP_REFERER="https://example.org/")
    assert response.status_code == 422
    assert "Kantor ini berada di luar wilayah kerja Anda." in response.content.decode()


@pytest.mark.urls(__name__)
def test_a_fault_of_the_machinery_stays_a_500_not_a_refusal_page(operator_client):
    with pytest.raises(AbisUnavailable):
        operator_client.get("/uji/abis/")
