"""One PRR count everywhere, the searchable paginated print queue with its order and ration,
and the one definition of days of cover."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ektp.cards import forecast, selectors, services
from ektp.cards.models import CardPolicy, LedgerEntry
from ektp.core.models import Role
from ektp.coverage.stats import coverage_of
from ektp.offices.models import ServicePoint
from ektp.residents.models import KtpStatus, LifeStatus, MaritalStatus
from tests.cards.factories import PrinterDeviceFactory, PrrResidentFactory, ServicePointFactory

pytestmark = pytest.mark.django_db


def prr(n: int, **kw):
    """n PRR residents, recorded on n different past days, the first longest ago."""
    today = timezone.localdate()
    return [
        PrrResidentFactory(recorded_on=today - dt.timedelta(days=40 + n - i), **kw)
        for i in range(n)
    ]


def consumed_on_service_days(office, operator, per_day: int, days: int, point=None):
    """Cards printed on each of the last `days` service days."""
    for day in forecast.service_days_before(timezone.localdate(), days):
        LedgerEntry.objects.create(
            kind=LedgerEntry.Kind.CONSUMPTION,
            office=office,
            from_point=point,
            quantity=per_day,
            actor=operator,
            at=timezone.make_aware(dt.datetime.combine(day, dt.time(10))),
        )


# --- one PRR count ---------------------------------------------------------------------


def test_prr_count_is_the_wajib_recorded_prr_and_equals_the_dashboard(office):
    today = timezone.localdate()
    prr(3)
    # Not waiting for print: a card held until 17, a deceased resident, a future recording.
    PrrResidentFactory(
        birth_date=today - dt.timedelta(days=16 * 365), marital_status=MaritalStatus.SINGLE
    )
    PrrResidentFactory(life_status=LifeStatus.DEAD)
    PrrResidentFactory(ktp_status=KtpStatus.SENT_FOR_ENROLLMENT)
    assert selectors.prr_count(office) == 3
    assert coverage_of(code="18.09", as_of=today).prr == 3
    assert forecast.office_cover(office).backlog == 3


def test_prr_count_of_a_kecamatan_counts_that_kecamatan_only(office):
    prr(2)
    assert selectors.prr_waiting("18.09.01").count() == 2
    assert selectors.prr_waiting("18.09.02").count() == 0


# --- the queue: search, pages, order ----------------------------------------------------


def test_queue_is_searchable_by_full_nik_by_its_start_and_by_name(office):
    first, second, *_ = prr(4)
    assert [i.resident for i in selectors.print_queue(office, search=first.nik).items] == [first]
    by_prefix = selectors.print_queue(office, search=second.nik[:12]).items
    assert second in [i.resident for i in by_prefix]
    by_name = selectors.print_queue(office, search=second.name.lower()[:6]).items
    assert second in [i.resident for i in by_name]


@pytest.mark.parametrize("bad", ["9999999999999999", "%' OR 1=1 --", "x" * 100, "   "])
def test_queue_search_with_no_match_or_odd_text_does_not_fail(office, bad):
    prr(2)
    found = selectors.print_queue(office, search=bad)
    if bad.strip():
        assert found.items == [] and found.page.paginator.count == 0
    else:
        assert found.page.paginator.count == 2
    assert found.prr == 2  # the office's count does not depend on the search


def test_queue_pages_keep_the_order_and_number_every_entry(office):
    residents = prr(7)
    first = selectors.print_queue(office, per_page=5)
    second = selectors.print_queue(office, page=2, per_page=5)
    assert [i.position for i in first.items] == [1, 2, 3, 4, 5]
    assert [i.position for i in second.items] == [6, 7]
    # oldest recording first (same priority)
    assert [i.resident for i in first.items + second.items] == residents


@pytest.mark.parametrize("page", ["abc", "0", "-1", "999"])
def test_a_bad_page_number_gives_a_page_not_an_error(office, page):
    prr(3)
    assert len(selectors.print_queue(office, page=page, per_page=2).items) >= 1


def test_under_shortage_only_the_first_of_the_whole_queue_print_today(office, stocked_point):
    """10 blanks, 30 PRR: the ration is 1 a day; entries on later pages wait, with the day."""
    prr(30)
    q1 = selectors.print_queue(office, per_page=10)
    assert q1.shortage.short and q1.shortage.daily_allowance == 1 and q1.left_today == 1
    assert [i.decision for i in q1.items][:2] == ["cetak", "menunggu_jatah"]
    q3 = selectors.print_queue(office, page=3, per_page=10)
    last = q3.items[-1]
    assert last.position == 30 and last.decision == "menunggu_jatah"
    assert last.ration_day == 29 and "29 hari layanan" in last.note
    # The outlook of one resident agrees with the page.
    assert selectors.print_outlook(office, q1.items[0].resident).decision == "cetak"
    outlook = selectors.print_outlook(office, last.resident)
    assert outlook.decision == "menunggu_jatah" and outlook.position == 30


def test_a_search_shows_the_place_and_decision_in_the_whole_queue(office, stocked_point):
    residents = prr(30)
    found = selectors.print_queue(office, search=residents[20].nik)
    (item,) = found.items
    assert item.position == 21 and item.decision == "menunggu_jatah"
    first = selectors.print_queue(office, search=residents[0].nik).items[0]
    assert first.position == 1 and first.decision == "cetak"
    at_point = selectors.print_queue(office, stocked_point, per_page=5, page=2).items
    assert [i.position for i in at_point] == [6, 7, 8, 9, 10]


def test_outlook_of_a_resident_not_in_the_queue(office):
    holder = PrrResidentFactory(ktp_status=KtpStatus.CARD_ISSUED)
    assert not selectors.print_outlook(office, holder).in_queue


# --- days of cover ------------------------------------------------------------------------


def test_service_days_skip_weekends_and_public_holidays():
    days = forecast.service_days_before(dt.date(2026, 1, 5), 3)  # Monday 5 January 2026
    assert days == [dt.date(2025, 12, 30), dt.date(2025, 12, 31), dt.date(2026, 1, 2)]
    assert not forecast.is_service_day(dt.date(2026, 1, 1))  # Tahun Baru
    assert forecast.service_days_until(dt.date(2026, 1, 5), dt.date(2026, 1, 5)) == 1


def test_cover_is_stock_over_average_use_of_the_last_service_days(office, receive, operator):
    receive("180926000001", "180926000100")
    consumed_on_service_days(office, operator, per_day=10, days=forecast.SERVICE_DAYS)
    cover = forecast.office_cover(office)
    assert cover.use_basis == "riwayat" and cover.history_days == forecast.SERVICE_DAYS
    assert cover.consumption_rate == pytest.approx(10)
    assert cover.days_of_cover == pytest.approx(10)


def test_a_short_history_is_averaged_over_its_own_days(office, receive, operator):
    receive("180926000001", "180926000100")
    consumed_on_service_days(office, operator, per_day=4, days=2)
    cover = forecast.office_cover(office)
    assert cover.history_days == 2 and cover.consumption_rate == pytest.approx(4)
    assert cover.days_of_cover == pytest.approx(25)


def test_a_card_printed_today_never_makes_the_cover_zero(office, stocked_point, printer, operator):
    resident = prr(1)[0]
    services.print_card(
        request_or_resident=resident,
        service_point=stocked_point,
        printer=printer,
        operator=operator,
    )
    cover = forecast.office_cover(office)
    assert cover.on_hand == 9 and cover.printed_today == 1
    assert cover.consumption_rate >= 1 and cover.days_of_cover > 0
    assert cover.use_basis == "rencana"


def test_without_history_the_planned_pace_is_used_but_no_more_than_there_is_to_print(
    office, receive
):
    receive("180926000001", "180926000100")
    CardPolicy.objects.create(office=office, planned_daily_prints=2)
    prr(5)
    small = forecast.office_cover(office)
    assert small.use_basis == "rencana" and small.consumption_rate < 2
    prr(60)
    big = forecast.office_cover(office)
    assert big.consumption_rate == pytest.approx(2) and big.days_of_cover == pytest.approx(50)


def test_nothing_used_waiting_or_planned_gives_no_number_not_infinity(office, receive):
    receive("180926000001", "180926000010")
    cover = forecast.office_cover(office)
    assert cover.days_of_cover is None and not cover.alert


def test_each_point_row_shows_its_own_figures(office, stocked_point, supervisor, operator):
    main = ServicePointFactory(
        office=office, kind=ServicePoint.Kind.OFFICE, code="KTR", region_id=None
    )
    PrinterDeviceFactory(service_point=main)
    mobile = ServicePointFactory(
        office=office, kind=ServicePoint.Kind.MOBILE, code="MBL", region_id=None
    )
    PrrResidentFactory()  # in 18.09.01, the UPT's kecamatan
    PrrResidentFactory(address_region_id="18.09.02.2001")
    consumed_on_service_days(office, operator, per_day=1, days=5, point=stocked_point)
    whole, rows = forecast.cover_report(office)
    by_place = {r.place: r for r in rows}
    upt = by_place[stocked_point.name]
    assert whole.backlog == 2 and upt.backlog == 1
    assert upt.on_hand == 5 and upt.consumption_rate == pytest.approx(1)
    assert by_place[main.name].backlog is None and by_place[main.name].on_hand == 0
    assert by_place[mobile.name].days_of_cover is None  # no printer, never printed
    assert whole.on_hand == 10


def test_request_letter_figures_come_from_the_one_cover(office, receive, operator):
    receive("180926000001", "180926000100")
    consumed_on_service_days(office, operator, per_day=10, days=forecast.SERVICE_DAYS)
    draft = services.draft_blank_request(office=office, actor=operator)
    cover = forecast.office_cover(office)
    assert draft.figures["days_of_cover"] == round(cover.days_of_cover, 1)
    assert draft.figures["definition"] == forecast.DEFINITION
    assert draft.quantity == cover.suggested_request


def test_the_cover_banner_agrees_with_the_ration(office, stocked_point):
    prr(30)
    cover = forecast.office_cover(office)
    assert cover.alert and not cover.backlog_flag  # rationed: no "cetak sekarang"


# --- pages ----------------------------------------------------------------------------------


@pytest.fixture
def client_as(make_staff):
    made = iter(range(100))

    def login(role=Role.OPERATOR):
        client = Client()
        client.force_login(make_staff(role, username=f"{role}-{next(made)}"))
        return client

    return login


def test_queue_page_finds_a_resident_by_nik_and_shows_the_office_count(office, client_as):
    residents = prr(3)
    page = client_as().get(reverse("cards:queue"), {"kab": "18.09", "q": residents[1].nik})
    html = page.content.decode()
    assert page.status_code == 200
    assert residents[1].name in html and residents[0].name not in html
    assert "PRR menunggu cetak" in html and "Urutan antrean" in html


def test_queue_page_with_bad_input_answers(office, client_as):
    prr(2)
    for params in ({"q": "x" * 500}, {"hal": "zz"}, {"titik": "not-a-uuid"}):
        assert (
            client_as().get(reverse("cards:queue"), {"kab": "18.09", **params}).status_code == 200
        )


def test_cover_page_shows_the_bars_with_their_figure(office, stocked_point, operator, client_as):
    consumed_on_service_days(office, operator, per_day=2, days=4, point=stocked_point)
    html = client_as(Role.SUPERVISOR).get(reverse("cards:cover"), {"kab": "18.09"}).content.decode()
    assert 'value="2.5"' in html and "2,5" in html  # a number the meter reads, and the text
    assert "∞" not in html and forecast.DEFINITION in html


def test_same_prr_count_on_queue_stock_cover_dashboard_and_api(office, client_as, make_staff):
    prr(4)
    PrrResidentFactory(life_status=LifeStatus.DEAD)
    head = client_as(Role.SUPERVISOR)
    pages = [
        head.get(reverse("cards:queue"), {"kab": "18.09"}),
        head.get(reverse("cards:stock"), {"kab": "18.09"}),
        head.get(reverse("cards:cover"), {"kab": "18.09"}),
        head.get(reverse("coverage:dashboard"), {"wilayah": "18.09"}),
    ]
    for page in pages:
        assert page.status_code == 200
        assert ">4</" in page.content.decode() or "<strong>4</strong>" in page.content.decode()
    assert selectors.prr_count(office) == 4


@pytest.mark.parametrize(
    ("name", "queries"), [("cards:queue", 30), ("cards:cover", 24), ("cards:stock", 24)]
)
def test_print_pages_read_in_a_pinned_number_of_queries(
    office, stocked_point, client_as, django_assert_max_num_queries, name, queries
):
    prr(60)
    client = client_as(Role.SUPERVISOR)
    client.get(reverse(name), {"kab": "18.09"})  # warm the session and caches
    with django_assert_max_num_queries(queries):
        assert client.get(reverse(name), {"kab": "18.09"}).status_code == 200


def test_the_whole_queue_s_size_is_the_union_s_size_with_open_requests(office, operator):
    """The paginated queue counts itself from the PRR count (kept per village) instead of
    counting the union: the same size, with a PRR resident who also has an open request
    (listed once, as the request) and a card holder's reprint request."""
    waiting = prr(5)
    services.create_reprint_request(resident=waiting[0], reason="tukar_suket", actor=operator)
    holder = PrrResidentFactory(ktp_status=KtpStatus.CARD_ISSUED)
    services.create_reprint_request(resident=holder, reason="hilang", actor=operator)
    union = selectors.queue_entries(selectors.QueueScope(office)).count()
    page = selectors.print_queue(office, per_page=2)
    assert union == 6  # four new, two requests
    assert page.page.paginator.count == union
    assert page.page.paginator.num_pages == 3
    assert page.prr == 5
    listed = [
        item
        for number in (1, 2, 3)
        for item in selectors.print_queue(office, page=number, per_page=2).items
    ]
    assert len(listed) == len({(i.resident.pk, i.request) for i in listed}) == 6
