"""The rule in force and the default rules: who may get a suket, when, for how long."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from ektp.residents.models import KtpStatus
from ektp.suket.models import Authority, RuleMode, Suket, SuketReason, add_months
from ektp.suket.policy import DEFAULT_SOURCE, rule_in_force
from ektp.suket.services import SuketNotAllowed, issue_suket
from tests.residents.factories import ResidentFactory
from tests.suket.conftest import at
from tests.suket.factories import (
    PrrResidentFactory,
    RecordedResidentFactory,
    SuketRuleFactory,
    pilkada_2020,
)

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 25)


def test_suket_refused_for_a_resident_who_has_not_recorded(office, operator):
    resident = ResidentFactory(ktp_status=KtpStatus.BELUM_REKAM, recorded_on=None)
    with pytest.raises(SuketNotAllowed, match="belum melakukan perekaman"):
        issue_suket(resident=resident, office=office, officer=operator, at=at(DAY))
    assert not Suket.objects.exists()


def test_suket_allowed_when_the_record_is_not_yet_prr_even_with_blanks(stock, operator):
    resident = RecordedResidentFactory()
    suket = issue_suket(resident=resident, office=stock, officer=operator, at=at(DAY))
    assert suket.reason == SuketReason.NOT_PRR
    assert suket.rule is None and suket.rule_source == DEFAULT_SOURCE
    assert suket.valid_until == dt.date(2027, 5, 25)


def test_suket_allowed_after_an_enroll_failure(stock, operator):
    resident = RecordedResidentFactory(ktp_status=KtpStatus.ENROLL_FAILURE)
    suket = issue_suket(resident=resident, office=stock, officer=operator, at=at(DAY))
    assert suket.reason == SuketReason.NOT_PRR


def test_suket_refused_for_prr_while_blanks_in_stock(stock, operator):
    resident = PrrResidentFactory()
    with pytest.raises(
        SuketNotAllowed, match="Rekaman sudah PRR dan masih ada 120 blangko: cetak KTP-el"
    ):
        issue_suket(resident=resident, office=stock, officer=operator, at=at(DAY))
    assert not Suket.objects.exists()


def test_suket_allowed_for_prr_when_the_office_has_no_blank(office, operator):
    suket = issue_suket(resident=PrrResidentFactory(), office=office, officer=operator, at=at(DAY))
    assert suket.reason == SuketReason.NO_BLANK


def test_suket_allowed_for_prr_with_blanks_on_a_technical_failure(stock, operator):
    suket = issue_suket(
        resident=PrrResidentFactory(),
        office=stock,
        officer=operator,
        technical_failure="Printer kartu rusak, menunggu teknisi",
        at=at(DAY),
    )
    assert suket.reason == SuketReason.TECHNICAL_FAILURE
    assert suket.reason_note == (
        "Printer kartu rusak, menunggu teknisi — Tidak ada printer kartu terdaftar di kantor ini."
    )


def test_suket_refused_when_the_card_is_already_printed(office, operator):
    resident = PrrResidentFactory(ktp_status=KtpStatus.CARD_PRINTED)
    with pytest.raises(SuketNotAllowed, match="sudah dicetak"):
        issue_suket(resident=resident, office=office, officer=operator, at=at(DAY))


def test_pilkada_2020_rule_issues_until_9_december_valid_until_31_december(office, operator):
    pilkada_2020()
    suket = issue_suket(
        resident=RecordedResidentFactory(),
        office=office,
        officer=operator,
        purpose="Pilkada 2020",
        at=at(dt.date(2020, 12, 9), hour=23),
    )
    assert suket.valid_until == dt.date(2020, 12, 31)
    assert suket.purpose == "Pilkada 2020"
    assert "Provinsi LAMPUNG" in suket.rule_source.upper() or "Lampung" in suket.rule_source
    assert "terbit sampai 09-12-2020" in suket.rule_source


def test_pilkada_2020_rule_refuses_on_10_december(office, operator):
    pilkada_2020()
    with pytest.raises(SuketNotAllowed, match="Masa penerbitan suket berakhir 09-12-2020"):
        issue_suket(
            resident=RecordedResidentFactory(),
            office=office,
            officer=operator,
            purpose="Pilkada 2020",
            at=at(dt.date(2020, 12, 10), hour=0),
        )
    assert not Suket.objects.exists()


def test_pilkada_2020_rule_refuses_another_purpose(office, operator):
    pilkada_2020()
    with pytest.raises(SuketNotAllowed, match="hanya diterbitkan untuk keperluan Pilkada 2020"):
        issue_suket(
            resident=RecordedResidentFactory(),
            office=office,
            officer=operator,
            purpose="Melamar kerja",
            at=at(dt.date(2020, 11, 2)),
        )


def test_pilkada_rule_still_refuses_prr_while_blanks_in_stock(stock, operator):
    pilkada_2020()
    with pytest.raises(SuketNotAllowed, match="masih ada 120 blangko"):
        issue_suket(
            resident=PrrResidentFactory(),
            office=stock,
            officer=operator,
            purpose="Pilkada 2020",
            at=at(dt.date(2020, 11, 2)),
        )


def test_after_the_pilkada_rule_ends_the_defaults_apply_again(office, operator):
    pilkada_2020()
    in_force = rule_in_force(office, dt.date(2021, 1, 1))
    assert in_force.rule is None and in_force.source == DEFAULT_SOURCE


def test_suket_forbidden_by_the_province(office, operator):
    SuketRuleFactory(mode=RuleMode.FORBID, title="Suket dihentikan")
    with pytest.raises(SuketNotAllowed, match="Suket tidak diterbitkan menurut kebijakan Provinsi"):
        issue_suket(resident=RecordedResidentFactory(), office=office, officer=operator, at=at(DAY))


def test_office_rule_overrides_the_province(office, operator):
    SuketRuleFactory(mode=RuleMode.FORBID, title="Suket dihentikan")
    SuketRuleFactory(
        authority=Authority.OFFICE,
        region_id="18.09",
        mode=RuleMode.ALLOW,
        title="Pesawaran tetap melayani suket",
        effective_from=dt.date(2019, 1, 1),
        valid_months=3,
    )
    suket = issue_suket(
        resident=RecordedResidentFactory(), office=office, officer=operator, at=at(DAY)
    )
    assert suket.rule.title == "Pesawaran tetap melayani suket"
    assert suket.rule_source.startswith("Kantor")
    assert suket.valid_until == dt.date(2027, 2, 25)


def test_province_rule_overrides_the_ministry_and_the_latest_wins(office):
    SuketRuleFactory(
        authority=Authority.MINISTRY,
        region_id=None,
        title="Nasional",
        effective_from=dt.date(2018, 1, 1),
    )
    SuketRuleFactory(title="Provinsi lama", effective_from=dt.date(2020, 1, 1))
    SuketRuleFactory(title="Provinsi baru", effective_from=dt.date(2024, 1, 1))
    assert rule_in_force(office, DAY).rule.title == "Provinsi baru"
    assert rule_in_force(office, dt.date(2022, 1, 1)).rule.title == "Provinsi lama"
    assert rule_in_force(office, dt.date(2019, 1, 1)).rule.title == "Nasional"


def test_another_province_rule_does_not_apply(office):
    SuketRuleFactory(region_id="31", mode=RuleMode.FORBID, title="DKI")
    assert rule_in_force(office, DAY).rule is None


def test_a_second_suket_is_refused_while_one_is_valid(office, operator):
    resident = RecordedResidentFactory()
    first = issue_suket(resident=resident, office=office, officer=operator, at=at(DAY))
    with pytest.raises(SuketNotAllowed, match=f"masih memiliki suket {first.number}"):
        issue_suket(resident=resident, office=office, officer=operator, at=at(DAY))
    assert Suket.objects.count() == 1


def test_a_new_suket_may_follow_an_expired_one(office, operator):
    resident = RecordedResidentFactory()
    first = issue_suket(resident=resident, office=office, officer=operator, at=at(DAY))
    later = add_months(DAY, 7)
    second = issue_suket(resident=resident, office=office, officer=operator, at=at(later))
    first.refresh_from_db()
    assert first.status == Suket.Status.EXPIRED
    assert second.status == Suket.Status.VALID


def test_the_database_refuses_two_valid_suket_for_one_resident(office, operator):
    first = issue_suket(
        resident=RecordedResidentFactory(), office=office, officer=operator, at=at(DAY)
    )
    first.pk, first.number = None, "474.11/9999/SKT/1809/XI/2026"
    with pytest.raises(IntegrityError), transaction.atomic():
        Suket.objects.create(
            **{
                f.attname: getattr(first, f.attname)
                for f in Suket._meta.concrete_fields
                if f.attname != "id"
            }
        )


def test_suket_refused_for_a_resident_of_another_office(office, operator):
    resident = RecordedResidentFactory(address_region_id="18.71.01.1003")
    with pytest.raises(SuketNotAllowed, match="bukan penduduk wilayah"):
        issue_suket(resident=resident, office=office, officer=operator, at=at(DAY))


def test_suket_refused_from_outside_the_jurisdiction(office, make_staff):
    from ektp.core.models import Role

    stranger = make_staff(Role.OPERATOR, region="18.71")
    with pytest.raises(SuketNotAllowed, match="di luar wilayah kerja"):
        issue_suket(resident=RecordedResidentFactory(), office=office, officer=stranger, at=at(DAY))
    assert not Suket.objects.exists()


def test_numbers_count_per_office_and_year(office, operator):
    a = issue_suket(resident=RecordedResidentFactory(), office=office, officer=operator, at=at(DAY))
    b = issue_suket(resident=RecordedResidentFactory(), office=office, officer=operator, at=at(DAY))
    c = issue_suket(
        resident=RecordedResidentFactory(),
        office=office,
        officer=operator,
        at=at(dt.date(2027, 1, 4)),
    )
    assert a.number == "474.11/0001/SKT/1809/XI/2026"
    assert b.number == "474.11/0002/SKT/1809/XI/2026"
    assert c.number == "474.11/0001/SKT/1809/I/2027"


def test_six_months_from_31_august_ends_on_the_last_day_of_february():
    assert add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 8, 31), 6) == dt.date(2028, 2, 29)


# --- the suket and the print ration; a technical failure needs a recorded printer fault ---


@pytest.fixture
def rationed(office, supervisor):
    """Three blanks at a UPT with a working printer and 30 PRR: printing is rationed to one
    card a day, given to the one who has waited longest."""
    from ektp.cards import services as cards_services
    from ektp.cards.models import LedgerEntry
    from tests.cards.factories import PrinterDeviceFactory, ServicePointFactory

    point = ServicePointFactory(office=office, code="UPT001")
    PrinterDeviceFactory(service_point=point, serial_number="PRN-AKTIF")
    cards_services.receive_blanks(
        office=office,
        serial_first="180926000001",
        serial_last="180926000003",
        source=LedgerEntry.Source.MINISTRY,
        reference="B-9",
        actor=supervisor,
    )
    today = timezone.localdate()
    return [PrrResidentFactory(recorded_on=today - dt.timedelta(days=60 - i)) for i in range(30)]


def test_suket_allowed_for_prr_rationed_out_of_today(office, rationed, operator):
    last = rationed[-1]
    suket = issue_suket(resident=last, office=office, officer=operator)
    assert suket.reason == SuketReason.RATIONED
    assert "Menunggu jatah cetak" in suket.reason_note


def test_suket_refused_for_prr_inside_today_s_ration(office, rationed, operator):
    with pytest.raises(SuketNotAllowed, match="masih ada 3 blangko: cetak KTP-el"):
        issue_suket(resident=rationed[0], office=office, officer=operator)


def test_technical_failure_text_alone_is_refused_while_a_printer_is_active(stock, operator):
    office = stock
    from tests.cards.factories import PrinterDeviceFactory, ServicePointFactory

    PrinterDeviceFactory(
        service_point=ServicePointFactory(office=office), serial_number="PRN-AKTIF"
    )
    with pytest.raises(SuketNotAllowed, match=r"PRN-AKTIF.*tercatat aktif"):
        issue_suket(
            resident=PrrResidentFactory(),
            office=office,
            officer=operator,
            technical_failure="Gangguan teknis",
        )
    assert not Suket.objects.exists()


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_a_broken_printer_without_a_stated_failure_does_not_open_the_exception(
    stock, operator, text
):
    office = stock
    from tests.cards.factories import PrinterDeviceFactory, ServicePointFactory

    PrinterDeviceFactory(
        service_point=ServicePointFactory(office=office),
        status="broken",
        status_reason="Pita habis",
    )
    with pytest.raises(SuketNotAllowed, match="cetak KTP-el"):
        issue_suket(
            resident=PrrResidentFactory(), office=office, officer=operator, technical_failure=text
        )


def test_technical_failure_accepted_when_every_printer_is_recorded_out_of_order(stock, operator):
    office = stock
    from tests.cards.factories import PrinterDeviceFactory, ServicePointFactory

    PrinterDeviceFactory(
        service_point=ServicePointFactory(office=office, name="UPT Padang Cermin"),
        serial_number="PRN-RUSAK",
        status="in_repair",
        status_reason="Head printer diganti",
    )
    suket = issue_suket(
        resident=PrrResidentFactory(),
        office=office,
        officer=operator,
        technical_failure="Printer mati sejak pagi",
    )
    assert suket.reason == SuketReason.TECHNICAL_FAILURE
    assert suket.reason_note.startswith("Printer mati sejak pagi — Printer kartu PRN-RUSAK")
    assert "Head printer diganti" in suket.reason_note
