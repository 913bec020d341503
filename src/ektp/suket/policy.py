"""The suket rule in force for an office on a day, and the decision for one resident."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, Value, When

from ektp.cards.selectors import print_outlook, stock_by_location
from ektp.core.errors import DomainError
from ektp.offices.models import Device, Office
from ektp.residents.models import KtpStatus, Resident
from ektp.suket.models import (
    DEFAULT_VALID_MONTHS,
    Authority,
    RuleMode,
    SuketReason,
    SuketRule,
    add_months,
)

DEFAULT_SOURCE = "Aturan bawaan (Ditjen Dukcapil): suket bagi penduduk yang sudah rekam"
SPECIFICITY = {Authority.OFFICE: 3, Authority.PROVINCE: 2, Authority.MINISTRY: 1}
NOT_YET_PRR = {
    KtpStatus.BIO_CAPTURED,
    KtpStatus.SENT_FOR_ENROLLMENT,
    KtpStatus.DUPLICATE_RECORD,
    KtpStatus.ENROLL_FAILURE,
}


class SuketNotAllowed(DomainError, ValueError):
    """The rule in force does not allow a suket for this resident now (a conflict with the
    state of the resident or the suket, hence 409)."""

    rule = "suket_not_allowed"
    status = 409


@dataclass(frozen=True)
class RuleInForce:
    """The rule that applies (None = the built-in defaults) and where it comes from."""

    rule: SuketRule | None
    source: str

    @property
    def mode(self) -> str:
        return self.rule.mode if self.rule else RuleMode.ALLOW

    @property
    def purpose(self) -> str:
        return self.rule.purpose if self.rule else ""

    def valid_until_for(self, issued_on: dt.date) -> dt.date:
        if self.rule is None:
            return add_months(issued_on, DEFAULT_VALID_MONTHS)
        return self.rule.valid_until_for(issued_on)


def describe(rule: SuketRule) -> str:
    """Name a rule's authority, region, title and dates for the operator."""
    if rule.authority == Authority.MINISTRY:
        who = "Kementerian (Ditjen Dukcapil)"
    elif rule.authority == Authority.PROVINCE:
        who = f"Provinsi {rule.region.name}"
    else:
        who = f"Kantor {rule.region.name}"
    text = f"{who}: {rule.title} ({rule.get_mode_display().lower()}"
    if rule.purpose:
        text += f", keperluan {rule.purpose}"
    text += f", berlaku sejak {rule.effective_from:%d-%m-%Y}"
    if rule.issue_until:
        text += f", terbit sampai {rule.issue_until:%d-%m-%Y}"
    if rule.valid_until:
        text += f", suket berlaku sampai {rule.valid_until:%d-%m-%Y}"
    text += ")"
    if rule.reference:
        text += f" — {rule.reference}"
    return text[:300]


def rule_in_force(office: Office, on: dt.date) -> RuleInForce:
    """Pick the most specific rule in force (office > province > ministry, then the latest)."""
    kabkota = office.region_id
    province = kabkota.split(".")[0]
    rule = (
        SuketRule.objects.select_related("region")
        .filter(effective_from__lte=on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .filter(
            Q(authority=Authority.MINISTRY)
            | Q(authority=Authority.PROVINCE, region_id=province)
            | Q(authority=Authority.OFFICE, region_id=kabkota)
        )
        .annotate(
            specificity=Case(
                *(When(authority=a, then=Value(n)) for a, n in SPECIFICITY.items()),
                output_field=IntegerField(),
            )
        )
        .order_by("-specificity", "-effective_from", "-created_at")
        .first()
    )
    if rule is None:
        return RuleInForce(None, DEFAULT_SOURCE)
    return RuleInForce(rule, describe(rule))


def blanks_in_stock(office: Office) -> int:
    """Count the office's blanks in stock at the store and every service point."""
    return sum(row.in_stock for row in stock_by_location(office))


def printer_fault(office: Office) -> str | None:
    """Describe the recorded fault that stops printing at the office: no card printer of
    its active points is active (each one is marked broken or in repair, with the reason
    recorded on the device). None while any card printer is listed as active."""
    printers = list(
        Device.objects.filter(
            service_point__office=office,
            service_point__is_active=True,
            kind=Device.Kind.CARD_PRINTER,
        )
        .select_related("service_point")
        .order_by("serial_number")
    )
    if any(p.status == Device.Status.ACTIVE for p in printers):
        return None
    if not printers:
        return "Tidak ada printer kartu terdaftar di kantor ini."
    return "; ".join(
        f"Printer kartu {p.serial_number} di {p.service_point.name} "
        f"{p.get_status_display().lower()}: {p.status_reason}"
        for p in printers
    )


def _active_printers(office: Office) -> str:
    names = Device.objects.filter(
        service_point__office=office,
        service_point__is_active=True,
        kind=Device.Kind.CARD_PRINTER,
        status=Device.Status.ACTIVE,
    ).values_list("serial_number", "service_point__name")
    return ", ".join(f"{serial} di {point}" for serial, point in names)


def _prr_reason(*, resident: Resident, office: Office, technical_failure: str) -> tuple[str, str]:
    """Why a PRR resident may have a suket today (no blank, no blank for them under the
    ration, a recorded printer fault), with the note the suket keeps; or SuketNotAllowed."""
    blanks = blanks_in_stock(office)
    if blanks == 0:
        return SuketReason.NO_BLANK, ""
    outlook = print_outlook(office, resident)
    if outlook.in_queue and outlook.decision in ("menunggu_jatah", "tunda"):
        return SuketReason.RATIONED, outlook.note[:250]
    if technical_failure:
        fault = printer_fault(office)
        if fault is None:
            raise SuketNotAllowed(
                "Gangguan teknis harus didukung catatan perangkat: printer kartu "
                f"{_active_printers(office)} tercatat aktif. Catat printer itu rusak atau "
                "dalam perbaikan (dengan alasannya) di halaman perangkat, atau cetak KTP-el."
            )
        return SuketReason.TECHNICAL_FAILURE, f"{technical_failure} — {fault}"[:250]
    raise SuketNotAllowed(f"Rekaman sudah PRR dan masih ada {blanks} blangko: cetak KTP-el.")


@dataclass(frozen=True)
class Decision:
    """A yes with the rule, the reason and the last valid day."""

    in_force: RuleInForce
    reason: str
    valid_until: dt.date
    note: str = ""


def decide(
    *,
    resident: Resident,
    office: Office,
    on: dt.date,
    technical_failure: str = "",
    purpose: str = "",
) -> Decision:
    """Apply the rule in force to one resident on one day, or raise SuketNotAllowed with why."""
    in_force = rule_in_force(office, on)
    rule = in_force.rule
    if rule is not None and rule.mode == RuleMode.FORBID:
        raise SuketNotAllowed(f"Suket tidak diterbitkan menurut kebijakan {in_force.source}.")
    if rule is not None and rule.issue_until is not None and on > rule.issue_until:
        raise SuketNotAllowed(
            f"Masa penerbitan suket berakhir {rule.issue_until:%d-%m-%Y} "
            f"menurut kebijakan {in_force.source}."
        )
    if (
        rule is not None
        and rule.mode == RuleMode.PURPOSE_ONLY
        and " ".join(purpose.split()).casefold() != rule.purpose.casefold()
    ):
        raise SuketNotAllowed(
            f"Suket hanya diterbitkan untuk keperluan {rule.purpose} "
            f"menurut kebijakan {in_force.source}."
        )
    if resident.recorded_on is None or resident.ktp_status == KtpStatus.BELUM_REKAM:
        raise SuketNotAllowed(f"{resident.name} belum melakukan perekaman KTP-el.")
    if resident.recorded_on > on:
        raise SuketNotAllowed(
            f"{resident.name} baru rekam pada {resident.recorded_on:%d-%m-%Y}, "
            f"sesudah {on:%d-%m-%Y}."
        )
    if resident.ktp_status == KtpStatus.CARD_PRINTED:
        raise SuketNotAllowed(
            f"KTP-el {resident.name} sudah dicetak: serahkan kartunya, bukan suket."
        )
    note = ""
    if resident.ktp_status in NOT_YET_PRR:
        reason = SuketReason.NOT_PRR
    else:
        reason, note = _prr_reason(
            resident=resident, office=office, technical_failure=technical_failure
        )
    valid_until = in_force.valid_until_for(on)
    if valid_until < on:
        raise SuketNotAllowed(
            f"Masa berlaku suket menurut kebijakan berakhir {valid_until:%d-%m-%Y}."
        )
    return Decision(in_force=in_force, reason=reason, valid_until=valid_until, note=note)
