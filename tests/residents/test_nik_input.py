"""The one NIK input type: the same parser behind a form's field and an API's schema,
path and query parameter (the WhatsApp text and each app's pages are tested with their app)."""

import pytest
from django import forms
from ninja import NinjaAPI, Query, Router, Schema
from ninja.testing import TestClient

from ektp.core.api import install_error_handlers
from ektp.residents.nik import Nik, NikField, NikIn

BAD = [
    ("123", "NIK harus 16 digit (yang diisi 3 karakter)."),
    ("18090117059O0001", "NIK hanya boleh berisi angka 0–9."),
    ("18٠٩011705900001", "NIK hanya boleh berisi angka 0–9."),  # Arabic-Indic digits
    ("18０９011705900001", "NIK hanya boleh berisi angka 0–9."),  # fullwidth digits
    ("18²³011705900001", "NIK hanya boleh berisi angka 0–9."),  # superscripts
]


class OneNikForm(forms.Form):
    nik = NikField()


def test_form_field_cleans_a_typed_nik_to_its_one_spelling():
    form = OneNikForm({"nik": " 1809 0117 0590 0001 "})
    assert form.is_valid()
    assert form.cleaned_data["nik"] == "1809011705900001"
    assert isinstance(form.cleaned_data["nik"], Nik)


@pytest.mark.parametrize(("typed", "message"), [*BAD, ("", "NIK wajib diisi.")])
def test_form_field_refuses_with_the_parser_s_message(typed, message):
    form = OneNikForm({"nik": typed})
    assert not form.is_valid()
    assert form.errors["nik"] == [message]


def test_form_field_asks_the_browser_for_a_number_pad_and_no_memory():
    html = str(OneNikForm()["nik"])
    assert 'inputmode="numeric"' in html
    assert 'maxlength="16"' in html
    assert 'autocomplete="off"' in html


class Body(Schema):
    nik: NikIn


router = Router()


@router.post("/body")
def in_body(request, payload: Body):
    return {"nik": payload.nik}


@router.get("/query")
def in_query(request, nik: Query[NikIn]):
    return {"nik": nik}


@router.get("/path/{nik}")
def in_path(request, nik: NikIn):
    return {"nik": nik}


nik_api = NinjaAPI(urls_namespace="nik-input-test")
install_error_handlers(nik_api)
nik_api.add_router("/", router)


@pytest.fixture
def api():
    return TestClient(nik_api)


def _errors(response):
    assert response.status_code == 422
    return [e["message"] for e in response.json()["errors"]]


def test_schema_path_and_query_take_a_nik_as_people_type_it(api):
    assert api.post("/body", json={"nik": "1809.0117.0590.0001"}).json() == {
        "nik": "1809011705900001"
    }
    assert api.get("/query", query_params={"nik": "1809 0117 0590 0001"}).json() == {
        "nik": "1809011705900001"
    }
    assert api.get("/path/1809-0117-0590-0001").json() == {"nik": "1809011705900001"}


@pytest.mark.parametrize(("typed", "message"), BAD)
def test_schema_refuses_with_the_parser_s_message(api, typed, message):
    assert _errors(api.post("/body", json={"nik": typed})) == [message]


@pytest.mark.parametrize(("typed", "message"), BAD)
def test_query_parameter_refuses_with_the_parser_s_message(api, typed, message):
    assert _errors(api.get("/query", query_params={"nik": typed})) == [message]


@pytest.mark.parametrize(("typed", "message"), BAD)
def test_path_parameter_refuses_with_the_parser_s_message(api, typed, message):
    assert _errors(api.get(f"/path/{typed}")) == [message]
