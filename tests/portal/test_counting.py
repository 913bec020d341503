"""What the status page counts: the form's parse agrees with the bound form, and a malformed
inquiry counts against the client only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import QueryDict
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_ratelimit.core import get_usage

from ektp.portal.forms import InquiryForm

NIK = "1809015705900001"


def inquiry(address: str = "10.20.30.40"):
    return RequestFactory().post("/cek/", REMOTE_ADDR=address)


def nik_count(nik: str, rate: str) -> int:
    """What django-ratelimit reads for a NIK (without counting a try)."""
    usage = get_usage(inquiry(), group="portal-nik", key=lambda g, r: nik, rate=rate)
    return usage["count"]


def client_count(address: str, rate: str) -> int:
    return get_usage(inquiry(address), group="portal-ip", key="ip", rate=rate)["count"]


# 1. InquiryForm.parse says what the bound form says -------------------------------------------

TOMORROW = object()  # replaced by tomorrow's date when the test runs
MISSING = object()  # the key is left out of the data

FORM_CASES = [
    # (NIK, birth date, valid)
    (NIK, "17-05-1990", True),
    (NIK, "17/05/1990", True),
    (NIK, "1990-05-17", True),
    ("1809 0157 0590 0001", "17-05-1990", True),
    ("1809.0157.0590.0001", "17-05-1990", True),
    ("  1809015705900001\t", " 17-05-1990 \n", True),
    (" " * 30 + NIK + " " * 10, " " * 15 + "17-05-1990" + " " * 5, True),  # long once stripped
    ("1809" + " " * 24 + "015705900001", "17-05-1990", True),  # exactly 40 characters
    ("1809" + " " * 25 + "015705900001", "17-05-1990", False),  # 41: over the field's limit
    ("1809 " * 10 + "0157 0590 0001", "17-05-1990", False),
    (NIK, "17-05-1990" + " lalu" * 3, False),  # birth date over 20 characters
    ("", "17-05-1990", False),
    (NIK, "", False),
    ("   ", "  ", False),
    (MISSING, "17-05-1990", False),
    (NIK, MISSING, False),
    (MISSING, MISSING, False),
    (NIK + "\x00", "17-05-1990", False),
    ("1809015705\x00900001", "17-05-1990", False),
    (NIK, "17-05-1990\x00", False),
    (NIK, "01-01-2999", False),
    (NIK, TOMORROW, False),
    (NIK, "31-12-1899", False),
    (NIK, "31-02-1990", False),
    (NIK, "29-02-1990", False),  # not a leap year
    (NIK, "17-5-1990", True),
    (NIK, "1990-5-17", True),
    (NIK, "17-05/1990", False),  # one separator or the other, not both
    (NIK, "1990/05/17", False),
    (NIK, "17.05.1990", False),
    (NIK, "117-05-1990", False),
    (NIK, "17-05-19900", False),
    (NIK, "00-05-1990", False),
    (NIK, "17-13-1990", False),
    (NIK, "١٧-٠٥-١٩٩٠", False),  # digits of another script
    ("18090157059000AB", "17-05-1990", False),
    (NIK, "kemarin", False),
    ("12345", "17-05-1990", False),
]


def _data(nik, birth_date, kind: str):
    values = {"nik": nik, "birth_date": birth_date}
    if values["birth_date"] is TOMORROW:
        values["birth_date"] = (timezone.localdate() + dt.timedelta(days=1)).strftime("%d-%m-%Y")
    values = {name: value for name, value in values.items() if value is not MISSING}
    if kind == "dict":
        return values
    data = QueryDict(mutable=True)
    for name, value in values.items():
        data[name] = value
    return data


@pytest.mark.parametrize("kind", ["dict", "querydict"])
@pytest.mark.parametrize(("nik", "birth_date", "valid"), FORM_CASES)
def test_parse_agrees_with_the_bound_form(nik, birth_date, valid, kind):
    data = _data(nik, birth_date, kind)
    form = InquiryForm(data)
    assert form.is_valid() is valid, form.errors
    parsed = InquiryForm.parse(data)
    if valid:
        assert parsed == (form.cleaned_data["nik"], form.cleaned_data["birth_date"])
        assert parsed == (NIK, dt.date(1990, 5, 17))
    else:
        assert parsed is None


# 2. The status page counts a malformed inquiry against the client only ------------------------


def check(client, nik: str, birth_date: str = "17-05-1990"):
    return client.post(reverse("portal:status"), {"nik": nik, "birth_date": birth_date})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("nik", "birth_date"),
    [("12345", "17-05-1990"), (NIK, "31-02-1990"), ("", ""), ("1809 " * 10, "17-05-1990")],
)
def test_malformed_inquiry_is_refused_and_counts_only_the_client(client, settings, nik, birth_date):
    settings.PORTAL_RATE_PER_IP = "10/h"
    settings.PORTAL_RATE_PER_NIK = "5/h"
    assert check(client, nik, birth_date).status_code == 400
    assert client_count("127.0.0.1", "10/h") == 1
    assert nik_count(NIK, "5/h") == 0


@pytest.mark.django_db
def test_client_over_its_rate_gets_try_again_later_even_for_malformed_input(client, settings):
    settings.PORTAL_RATE_PER_IP = "2/h"
    assert check(client, "12345").status_code == 400
    assert check(client, NIK, "kemarin").status_code == 400
    blocked = check(client, "12345")
    assert blocked.status_code == 429
    assert "coba lagi nanti" in blocked.content.decode().lower()
    assert check(client, NIK).status_code == 429
    assert nik_count(NIK, "5/h") == 0
    assert client_count("127.0.0.1", "2/h") == 4
