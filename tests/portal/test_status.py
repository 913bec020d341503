"""The public status inquiry: states, masking, no NIK oracle, rate limits, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ektp.cards.models import CardPrint
from ektp.portal.selectors import GENERIC_NOT_FOUND, find_resident, print_wait_text, status_of
from ektp.residents.models import Resident
from tests.cards.factories import ServicePointFactory
from tests.portal.factories import (
    PortalResidentFactory,
    active_booking,
    printed_card,
    valid_suket,
)

pytestmark = pytest.mark.django_db
URL = "/cek/"
PRR_ANSWER_QUERIES = 12


def check(client, nik: str, birth_date: str = "17-05-1990"):
    return client.post(reverse("portal:status"), {"nik": nik, "birth_date": birth_date})


def test_form_page_is_small_and_has_no_script(client):
    page = client.get(reverse("portal:status"))
    assert page.status_code == 200
    assert "<script" not in page.content.decode()
    assert len(page.content) < 4000


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("BELUM_REKAM", "Belum rekam"),
        ("BIO_CAPTURED", "menunggu penunggalan"),
        ("SENT_FOR_ENROLLMENT", "menunggu penunggalan"),
        ("PRINT_READY_RECORD", "Siap cetak"),
        ("DUPLICATE_RECORD", "datang ke kantor"),
        ("ENROLL_FAILURE", "rekam ulang"),
        ("CARD_ISSUED", "Sudah diserahkan"),
    ],
)
def test_each_stage_is_said_plainly(client, status, words):
    recorded = None if status == "BELUM_REKAM" else dt.date(2026, 1, 5)
    resident = PortalResidentFactory(ktp_status=status, recorded_on=recorded)
    response = check(client, resident.nik)
    assert response.status_code == 200
    assert words in response.content.decode()


def test_printed_card_says_where_and_from_when(client):
    resident = PortalResidentFactory(ktp_status="CARD_PRINTED", recorded_on=dt.date(2026, 1, 5))
    printed_card(resident, printed_at=dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC))
    text = check(client, resident.nik).content.decode()
    assert "ambil di UPT Gedong Tataan" in text
    assert "mulai 3 Maret 2026" in text


def test_a_card_printed_before_prints_were_recorded_is_collected_at_the_home_office(
    client, django_assert_num_queries
):
    """Residents brought over from SIAK as printed have no print on record: the answer names
    the Disdukcapil office of their kab/kota instead of no place at all."""
    from tests.cards.factories import OfficeFactory

    resident = PortalResidentFactory(ktp_status="CARD_PRINTED", recorded_on=dt.date(2020, 1, 5))
    office = OfficeFactory(region_id=resident.kabkota_code)
    office.address = "Jl. Raya 1"
    office.save()
    with django_assert_num_queries(1):  # read by the lookup itself
        text = check(client, resident.nik).content.decode()
    assert f"Silakan ambil di {office.name}, Jl. Raya 1" in text
    plain = Resident.objects.get(pk=resident.pk)  # a resident not from find_resident
    assert f"Silakan ambil di {office.name}, Jl. Raya 1" in status_of(plain).detail
    printed_card(resident)  # a print on record: its point, not the office
    assert "ambil di UPT Gedong Tataan" in check(client, resident.nik).content.decode()


def test_the_latest_card_in_hand_says_where_and_a_voided_one_is_not(client):
    resident = PortalResidentFactory(ktp_status="CARD_PRINTED", recorded_on=dt.date(2026, 1, 5))
    old = printed_card(resident, printed_at=dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC))
    point = ServicePointFactory(name="Kantor Disdukcapil Pesawaran")
    newer = printed_card(
        resident, point=point, printed_at=dt.datetime(2026, 4, 6, 3, 0, tzinfo=dt.UTC)
    )
    text = check(client, resident.nik).content.decode()
    assert "ambil di Kantor Disdukcapil Pesawaran" in text
    assert "mulai 7 April 2026" in text
    CardPrint.objects.filter(pk=newer.pk).update(
        voided_at=dt.datetime(2026, 4, 6, 4, tzinfo=dt.UTC), void_reason="rusak"
    )
    text = check(client, resident.nik, "17-05-1990").content.decode()
    assert "ambil di UPT Gedong Tataan" in text
    CardPrint.objects.filter(pk=old.pk).update(
        voided_at=dt.datetime(2026, 4, 6, 4, tzinfo=dt.UTC), void_reason="rusak"
    )
    text = check(client, resident.nik, "17-05-1990").content.decode()
    assert "KTP-el Anda sudah dicetak." in text
    assert "ambil di" not in text


def test_status_of_a_resident_read_elsewhere_finds_the_card_itself():
    """The WhatsApp bot and the API may hand status_of a resident of their own."""
    resident = PortalResidentFactory(ktp_status="CARD_PRINTED", recorded_on=dt.date(2026, 1, 5))
    printed_card(resident, printed_at=dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC))
    plain = Resident.objects.get(pk=resident.pk)
    found = find_resident(nik=resident.nik, birth_date=resident.birth_date)
    assert not hasattr(plain, "printed_at")
    assert (
        status_of(plain).headline
        == status_of(found).headline
        == ("Sudah dicetak, ambil di UPT Gedong Tataan")
    )


def test_the_card_is_read_only_for_a_resident_whose_card_waits_to_be_collected():
    resident = PortalResidentFactory(ktp_status="CARD_ISSUED", recorded_on=dt.date(2026, 1, 5))
    printed_card(resident, printed_at=dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC))
    found = find_resident(nik=resident.nik, birth_date=resident.birth_date)
    assert (found.print_point, found.printed_at) == (None, None)
    Resident.objects.filter(pk=resident.pk).update(ktp_status="CARD_PRINTED")
    found = find_resident(nik=resident.nik, birth_date=resident.birth_date)
    assert found.print_point == "UPT Gedong Tataan"
    assert found.printed_at == dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("birth_date", ["17-05-1990", "1990-05-17", "kemarin"])
def test_every_answer_of_the_page_is_never_cached(client, birth_date):
    resident = PortalResidentFactory()
    for response in (client.get(URL), check(client, resident.nik, birth_date)):
        assert (
            response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
        )
        assert response["Expires"].endswith(" GMT")


def test_the_cache_headers_are_those_of_djangos_never_cache():
    from django.http import HttpResponse
    from django.utils.cache import add_never_cache_headers

    from ektp.portal.views import NEVER_CACHE

    response = HttpResponse()
    add_never_cache_headers(response)
    assert response["Cache-Control"] == NEVER_CACHE


def test_personal_data_is_masked(client):
    resident = PortalResidentFactory(
        ktp_status="PRINT_READY_RECORD", recorded_on=dt.date(2026, 1, 5)
    )
    text = check(client, resident.nik).content.decode()
    assert resident.masked_nik in text
    assert "BU** SA*****" in text
    assert resident.nik not in text
    assert "BUDI SANTOSO" not in text
    assert resident.phone not in text


def test_unknown_nik_and_wrong_birth_date_get_the_same_page(client):
    resident = PortalResidentFactory()
    wrong_date = check(client, resident.nik, "18-05-1990")
    unknown = check(client, "1809015705909999")
    assert wrong_date.status_code == unknown.status_code == 200
    assert GENERIC_NOT_FOUND in wrong_date.content.decode()

    def strip_token(html: bytes, typed_nik: str) -> str:
        # The box keeps the NIK that was typed (nothing learnt: the asker typed it).
        return "".join(
            line for line in html.decode().splitlines() if "csrfmiddlewaretoken" not in line
        ).replace(typed_nik, "NIK")

    assert strip_token(wrong_date.content, resident.nik) == strip_token(
        unknown.content, "1809015705909999"
    )


def test_dead_resident_is_not_found(client):
    resident = PortalResidentFactory(life_status="meninggal")
    assert GENERIC_NOT_FOUND in check(client, resident.nik).content.decode()


@pytest.mark.parametrize(
    ("nik", "birth_date", "message"),
    [
        ("12345", "17-05-1990", "NIK harus 16 digit (yang diisi 5 karakter)."),
        ("18090157059000AB", "17-05-1990", "NIK hanya boleh berisi angka 0–9."),
        ("18０９015705900001", "17-05-1990", "NIK hanya boleh berisi angka 0–9."),
        ("", "17-05-1990", "NIK wajib diisi."),
        ("1809015705900001", "", "Tanggal lahir wajib diisi."),
        ("1809015705900001", "31-02-1990", "HH-BB-TTTT"),
        ("1809015705900001", "kemarin", "HH-BB-TTTT"),
        ("1809015705900001", "01-01-2999", "tidak mungkin"),
        ("1" * 41, "17-05-1990", "NIK harus 16 digit (yang diisi 41 karakter)."),
    ],
)
def test_bad_input_is_refused_with_the_rule(client, nik, birth_date, message):
    response = check(client, nik, birth_date)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_birth_date_from_a_date_picker_is_accepted(client):
    resident = PortalResidentFactory()
    assert "Belum rekam" in check(client, resident.nik, "1990-05-17").content.decode()


def test_too_many_tries_for_one_nik_get_try_again_later(client, settings):
    settings.PORTAL_RATE_PER_NIK = "3/h"
    resident = PortalResidentFactory()
    for day in ("01-01-1990", "02-01-1990", "03-01-1990"):
        assert check(client, resident.nik, day).status_code == 200
    blocked = check(client, resident.nik, "17-05-1990")
    assert blocked.status_code == 429
    assert "coba lagi nanti" in blocked.content.decode().lower()
    assert blocked["Retry-After"]


def test_too_many_tries_from_one_client_get_try_again_later(client, settings):
    settings.PORTAL_RATE_PER_IP = "4/h"
    for serial in range(4):
        assert check(client, f"180901570590{serial:04d}").status_code == 200
    assert check(client, "1809015705909999").status_code == 429


def test_booking_is_shown_without_its_code(client):
    resident = PortalResidentFactory()
    active_booking(resident, code="BK7Q2MN8PZ")
    text = check(client, resident.nik).content.decode()
    assert "BK7Q2MN8PZ" not in text  # the code manages the booking: it goes only to the phone
    assert "UPT Negeri Katon" in text
    assert "08.00–10.00" in text


def test_valid_suket_is_shown_with_a_way_to_ask_for_a_code(client):
    resident = PortalResidentFactory(ktp_status="BIO_CAPTURED", recorded_on=dt.date(2026, 1, 5))
    suket = valid_suket(resident)
    text = check(client, resident.nik).content.decode()
    assert suket.number in text
    assert "/cek/suket/" not in text
    link = text.split('href="/cek/akses/')[1].split('"')[0]
    offer = client.get(f"/cek/akses/{link}")
    assert offer.status_code == 200
    assert offer["Content-Type"].startswith("text/html")
    assert "Kirim kode" in offer.content.decode()


def test_only_a_valid_suket_is_shown(client):
    resident = PortalResidentFactory(ktp_status="BIO_CAPTURED", recorded_on=dt.date(2026, 1, 5))
    suket = valid_suket(resident)
    suket.status, suket.status_reason = "revoked", "Data salah"
    suket.save(update_fields=["status", "status_reason"])
    text = check(client, resident.nik).content.decode()
    assert suket.number not in text
    assert "/cek/suket/" not in text


def test_an_inquiry_is_one_statement_to_the_database(client, django_assert_num_queries):
    """The tries are counted in the host cache, outside the database: the lookup (the
    resident, whether a suket or a booking exists, the card in hand) is the one query."""
    resident = PortalResidentFactory(
        ktp_status="SENT_FOR_ENROLLMENT", recorded_on=dt.date(2026, 1, 5)
    )
    with django_assert_num_queries(1):
        assert "menunggu penunggalan" in check(client, resident.nik).content.decode()
    with django_assert_num_queries(1):
        assert GENERIC_NOT_FOUND in check(client, resident.nik, "18-05-1990").content.decode()


def test_a_print_ready_answer_reads_the_print_queue_with_a_fixed_number_of_queries(
    client, django_assert_num_queries
):
    """The estimate of the print wait is the price of a PRR answer only: the office, the
    print queue (policy, residents, requests) and the stock judgement."""
    from tests.cards.factories import OfficeFactory

    first = PortalResidentFactory(ktp_status="PRINT_READY_RECORD", recorded_on=dt.date(2026, 1, 5))
    OfficeFactory(region_id=first.kabkota_code)
    check(client, first.nik)  # the stock judgement is kept for a minute after the first
    with CaptureQueriesContext(connection) as one:
        assert 'id="print-wait"' in check(client, first.nik).content.decode()
    for _ in range(5):
        PortalResidentFactory(ktp_status="PRINT_READY_RECORD", recorded_on=dt.date(2026, 1, 4))
    with CaptureQueriesContext(connection) as six:
        assert "ke-6" in check(client, first.nik).content.decode()
    assert len(one) == len(six) <= PRR_ANSWER_QUERIES


def test_the_inquiry_answers_with_debug_on_and_its_statements_are_logged(client, settings):
    """DEBUG logs every statement, the lookup's too, and logging them must not break the
    page."""
    from django.db import connection, reset_queries

    settings.DEBUG = True
    resident = PortalResidentFactory(
        ktp_status="PRINT_READY_RECORD", recorded_on=dt.date(2026, 1, 5)
    )
    reset_queries()
    assert "Siap cetak" in check(client, resident.nik).content.decode()
    assert any("residents_resident" in query["sql"] for query in connection.queries)


def test_forged_download_link_is_refused(client):
    response = client.get("/cek/suket/palsu:1a2b:3c/")
    assert response.status_code == 404


def test_api_answers_like_the_page(client):
    resident = PortalResidentFactory(
        ktp_status="PRINT_READY_RECORD", recorded_on=dt.date(2026, 1, 5)
    )
    found = client.post(
        "/api/v1/portal/status",
        {"nik": resident.nik, "birth_date": "17-05-1990"},
        content_type="application/json",
    )
    assert found.status_code == 200
    assert found.json()["stage"] == "ready"
    assert found.json()["masked_nik"] == resident.masked_nik
    wrong = client.post(
        "/api/v1/portal/status",
        {"nik": resident.nik, "birth_date": "18-05-1990"},
        content_type="application/json",
    )
    unknown = client.post(
        "/api/v1/portal/status",
        {"nik": "1809015705909999", "birth_date": "17-05-1990"},
        content_type="application/json",
    )
    assert (
        wrong.json()
        == unknown.json()
        == {
            "found": False,
            "message": GENERIC_NOT_FOUND,
            "stage": "",
            "headline": "",
            "masked_nik": "",
            "masked_name": "",
            "sukets": [],
            "bookings": [],
        }
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"nik": "123", "birth_date": "17-05-1990"}, 422),
        ({"nik": "18٠٩015705909999", "birth_date": "17-05-1990"}, 422),
        ({"nik": "1809015705909999", "birth_date": "17/13/1990"}, 422),
        ({"nik": "1809015705909999"}, 422),
        ({"nik": "1" * 100, "birth_date": "17-05-1990"}, 422),
    ],
)
def test_api_bad_input_is_refused_in_indonesian(client, body, status):
    response = client.post("/api/v1/portal/status", body, content_type="application/json")
    assert response.status_code == status
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("nik", "message"),
    [
        ("123", "NIK harus 16 digit (yang diisi 3 karakter)."),
        ("18٠٩015705909999", "NIK hanya boleh berisi angka 0–9."),
        ("18０９015705909999", "NIK hanya boleh berisi angka 0–9."),
    ],
)
def test_api_names_what_is_wrong_with_the_nik(client, nik, message):
    body = {"nik": nik, "birth_date": "17-05-1990"}
    response = client.post("/api/v1/portal/status", body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"] == message


def test_api_rate_limit(client, settings):
    settings.PORTAL_RATE_PER_IP = "2/h"
    body = {"nik": "1809015705909999", "birth_date": "17-05-1990"}
    for _ in range(2):
        client.post("/api/v1/portal/status", body, content_type="application/json")
    blocked = client.post("/api/v1/portal/status", body, content_type="application/json")
    assert blocked.status_code == 429
    assert "Coba lagi nanti" in blocked.json()["detail"]


def test_api_bad_input_counts_against_the_client_rate(client, settings):
    settings.PORTAL_RATE_PER_IP = "2/h"
    bad = {"nik": "123", "birth_date": "17-05-1990"}
    for _ in range(2):
        refused = client.post("/api/v1/portal/status", bad, content_type="application/json")
        assert refused.status_code == 422
    good = {"nik": "1809015705909999", "birth_date": "17-05-1990"}
    assert (
        client.post("/api/v1/portal/status", good, content_type="application/json").status_code
        == 429
    )
    assert (
        client.post("/api/v1/portal/status", bad, content_type="application/json").status_code
        == 429
    )


def test_answer_speaks_the_language_of_each_request(client, settings):
    """The answer's texts are translated once per language, never one request's for another."""
    resident = PortalResidentFactory(ktp_status="CARD_ISSUED", recorded_on=dt.date(2026, 1, 5))
    url = reverse("portal:status")
    form = {"nik": resident.nik, "birth_date": "17-05-1990"}
    for language, words, absent in [
        ("en", ["Recording", "Printed", "Check another NIK"], "Perekaman"),
        ("id", ["Perekaman", "Dicetak", "Cek NIK lain"], "Recording"),
        ("en", ["Recording", "Check another NIK"], "Cek NIK lain"),
    ]:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language  # the language switch's choice
        text = client.post(url, form).content.decode()
        assert f'lang="{language}"' in text
        assert all(word in text for word in words), (language, text)
        assert absent not in text


def test_after_not_found_the_nik_stays_and_the_birth_date_is_not_echoed(client):
    resident = PortalResidentFactory()
    page = check(client, resident.nik, "01-01-1971").content.decode()
    assert GENERIC_NOT_FOUND in page
    assert f'value="{resident.nik}"' in page
    assert "01-01-1971" not in page


def test_after_a_malformed_birth_date_the_nik_stays_and_the_date_is_typed_again(client):
    resident = PortalResidentFactory()
    response = check(client, resident.nik, "31-02-1990")
    page = response.content.decode()
    assert response.status_code == 400
    assert f'value="{resident.nik}"' in page and "31-02-1990" not in page
    bad_nik = check(client, "12345", "17-05-1990").content.decode()
    assert 'value="12345"' in bad_nik and "17-05-1990" not in bad_nik


def test_not_recorded_answer_links_to_booking(client):
    resident = PortalResidentFactory(ktp_status="BELUM_REKAM", recorded_on=None)
    page = check(client, resident.nik).content.decode()
    assert f'href="{reverse("booking:identify")}"' in page and "Buat janji perekaman" in page
    ready = PortalResidentFactory(ktp_status="PRINT_READY_RECORD", recorded_on=dt.date(2026, 1, 5))
    assert 'id="book-recording"' not in check(client, ready.nik).content.decode()


def test_print_ready_answer_estimates_the_wait_from_the_queue_and_the_stock(client):
    from tests.cards.factories import OfficeFactory

    resident = PortalResidentFactory(
        ktp_status="PRINT_READY_RECORD", recorded_on=dt.date(2026, 1, 5)
    )
    assert 'id="print-wait"' not in check(client, resident.nik).content.decode()  # no office
    OfficeFactory(region_id=resident.kabkota_code)
    page = check(client, resident.nik).content.decode()
    # No blank in stock: the card waits for the next delivery, and a suket may stand in.
    assert 'id="print-wait"' in page and "setelah blangko datang" in page and "ke-1" in page
    waiting = PortalResidentFactory(
        ktp_status="SENT_FOR_ENROLLMENT", recorded_on=dt.date(2026, 1, 5)
    )
    assert 'id="print-wait"' not in check(client, waiting.nik).content.decode()


@pytest.mark.parametrize(
    ("position", "exact", "printed_today", "words"),
    [
        (50, True, 40, "Perkiraan cetak: hari ini. Urutan Anda ke-50"),
        (60, True, 40, "hari ini"),
        (61, True, 40, "sekitar 1 hari layanan lagi"),
        (260, True, 40, "sekitar 2 hari layanan lagi"),
        (261, True, 40, "sekitar 3 hari layanan lagi"),
        (1, True, 100, "sekitar 1 hari layanan lagi"),  # today's ration is used up
        (501, False, 0, "paling cepat 5 hari layanan lagi. Urutan Anda setelah 500 orang"),
    ],
)
def test_print_wait_counts_whole_service_days_of_the_ration(position, exact, printed_today, words):
    text = print_wait_text(
        position=position,
        exact=exact,
        short=True,
        daily_allowance=100,
        printed_today=printed_today,
        days_to_next_delivery=30,
    )
    assert words in text and "100 kartu per hari" in text


def test_print_wait_without_rationing_says_the_stock_is_enough():
    text = print_wait_text(
        position=7,
        exact=True,
        short=False,
        daily_allowance=None,
        printed_today=None,
        days_to_next_delivery=30,
    )
    assert "1 hari layanan" in text and "tanpa penjatahan" in text
