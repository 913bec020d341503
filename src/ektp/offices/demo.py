"""Demo offices for a seeded district: the office, its points, kits and printers."""

from __future__ import annotations

from django.db import transaction

from ektp.naskah.models import Letterhead
from ektp.offices.models import Device, Office, ServicePoint
from ektp.regions.models import Region


def _device(point: ServicePoint, kind: str, serial: str) -> None:
    Device.objects.get_or_create(
        serial_number=serial, defaults={"service_point": point, "kind": kind}
    )


def _demo_letterhead(office: Office, region: Region) -> None:
    """A kop surat and a head of office for the demo; the name and NIP belong to no one."""
    place = region.name.title().removeprefix("Kabupaten ").removeprefix("Kota ")
    Letterhead.objects.get_or_create(
        office=office,
        defaults={
            "government": "PEMERINTAH " + region.name.upper(),
            "phone": "(0721) 555-0100",
            "email": "disdukcapil@demo.example.go.id",
            "city": place,
            "head_name": "Dra. Ratna Sari Wulandari, M.Si.",
            "head_rank": "Pembina Utama Muda (IV/c)",
            "head_nip": "197105122000032004",
        },
    )


@transaction.atomic
def ensure_demo_offices(region: Region) -> Office:
    """Create (or keep) a kab/kota's Disdukcapil with a kantor, one UPT per kecamatan and a mobile unit."""
    office, _ = Office.objects.get_or_create(
        region=region,
        defaults={
            "name": f"Disdukcapil {region.name.title()}",
            "address": f"Jalan Raya Pemda Nomor 1, {region.name.title()}",
        },
    )
    _demo_letterhead(office, region)
    prefix = region.code.replace(".", "")
    kantor, _ = ServicePoint.objects.get_or_create(
        office=office,
        code="KANTOR",
        defaults={"kind": ServicePoint.Kind.OFFICE, "name": f"Kantor {office.name}"},
    )
    for n in (1, 2):
        _device(kantor, Device.Kind.RECORDING_KIT, f"REK-{prefix}-K{n}")
    for n in (1, 2):
        _device(kantor, Device.Kind.CARD_PRINTER, f"PRN-{prefix}-K{n}")
    kecamatans = Region.objects.filter(parent=region, level=Region.Level.KECAMATAN).order_by("code")
    for kec in kecamatans:
        code = f"UPT-{kec.code[-2:]}"
        point, _ = ServicePoint.objects.get_or_create(
            office=office,
            code=code,
            defaults={
                "kind": ServicePoint.Kind.UPT,
                "name": f"UPT Kecamatan {kec.name.title()}",
                "region": kec,
            },
        )
        _device(point, Device.Kind.RECORDING_KIT, f"REK-{prefix}-{kec.code[-2:]}")
    mobile, _ = ServicePoint.objects.get_or_create(
        office=office,
        code="MOBIL-1",
        defaults={"kind": ServicePoint.Kind.MOBILE, "name": "Mobil Keliling 1"},
    )
    _device(mobile, Device.Kind.RECORDING_KIT, f"REK-{prefix}-M1")
    _device(mobile, Device.Kind.CARD_PRINTER, f"PRN-{prefix}-M1")
    return office
