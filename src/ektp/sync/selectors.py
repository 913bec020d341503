"""Reads of edge sync: a packet's fate for the edge, reference data by cursor, device lists."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.utils.dateparse import parse_datetime

from ektp.regions.models import Region
from ektp.residents.models import KtpStatus, Resident
from ektp.sync.models import EdgeDevice, InboundPacket

S = InboundPacket.State
K = KtpStatus
# What the edge tells a resident about a recording the office processed, by its KTP status.
FATE_OF_STATUS = {
    K.BIO_CAPTURED: "diproses",
    K.SENT_FOR_ENROLLMENT: "diproses",
    K.PRINT_READY_RECORD: "prr",
    K.DUPLICATE_RECORD: "ganda",
    K.ENROLL_FAILURE: "gagal_rekam",
    K.CARD_PRINTED: "dicetak",
    K.CARD_ISSUED: "dicetak",
}
FATE_OF_STATE = {
    S.RECEIVING: "menerima",
    S.RECEIVED: "diterima",
    S.DUPLICATE: "ganda",
    S.NEEDS_MATCH: "perlu_cocok",
    S.QUARANTINED: "karantina",
    S.REJECTED: "ditolak",
    S.RESEND: "kirim_ulang",
}
REFERENCE_PAGE = 500


def fates(*, device: EdgeDevice, ids: list[str]) -> list[dict]:
    """Return the fate of each of a device's packets (unknown ids: `tidak_dikenal`)."""
    found = {
        p.pk: p
        for p in InboundPacket.objects.filter(device=device, pk__in=ids)
        .select_related("enrollment__resident")
        .defer("content")
    }
    answer = []
    for packet_id in ids:
        packet = found.get(packet_id)
        if packet is None:
            answer.append({"id": packet_id, "fate": "tidak_dikenal", "reason": ""})
            continue
        if packet.state == S.PROCESSED and packet.enrollment is not None:
            status = packet.enrollment.resident.ktp_status
            fate = FATE_OF_STATUS.get(status, "diproses")
        else:
            fate = FATE_OF_STATE.get(packet.state, packet.state)
        answer.append(
            {
                "id": packet_id,
                "fate": fate,
                "reason": packet.reason,
                "received_at": packet.received_at,
            }
        )
    return answer


def _encode(at: dt.datetime, nik: str) -> str:
    return f"{at.isoformat()}|{nik}"


def _decode(cursor: str) -> tuple[dt.datetime, str] | None:
    if not cursor:
        return None
    at, _, nik = cursor.partition("|")
    moment = parse_datetime(at)
    if moment is None or not nik.isdigit():
        return None
    return moment, nik


def reference_page(*, device: EdgeDevice, cursor: str, limit: int = REFERENCE_PAGE) -> dict:
    """Return residents of the device's villages changed after the cursor, in a stable order;
    the first page (no cursor) also carries the regions and the device's policy."""
    villages = list(device.villages.values_list("code", flat=True))
    rows = Resident.objects.filter(address_region_id__in=villages).order_by("updated_at", "nik")
    after = _decode(cursor)
    if after is not None:
        at, nik = after
        rows = rows.filter(Q(updated_at__gt=at) | Q(updated_at=at, nik__gt=nik))
    page = list(
        rows.values(
            "nik",
            "name",
            "sex",
            "birth_date",
            "address_region_id",
            "ktp_status",
            "life_status",
            "updated_at",
        )[: limit + 1]
    )
    more = len(page) > limit
    page = page[:limit]
    next_cursor = _encode(page[-1]["updated_at"], page[-1]["nik"]) if page else cursor
    regions = []
    if after is None:
        codes = set()
        for code in villages:
            parts = code.split(".")
            codes.update(".".join(parts[: i + 1]) for i in range(len(parts)))
        regions = list(Region.objects.filter(code__in=codes).values("code", "name", "level"))
    return {
        "residents": [
            {
                "nik": r["nik"],
                "name": r["name"],
                "sex": r["sex"],
                "birth_date": r["birth_date"],
                "village": r["address_region_id"],
                "ktp_status": r["ktp_status"],
                "life_status": r["life_status"],
            }
            for r in page
        ],
        "regions": regions,
        "cursor": next_cursor,
        "more": more,
    }


def devices_for_office(*, points) -> list[EdgeDevice]:
    """Each device of these points with its backlog of packets still waiting for a decision."""
    return list(
        EdgeDevice.objects.filter(service_point__in=points)
        .select_related("service_point")
        .annotate(
            waiting=Count(
                "packets", filter=Q(packets__state__in=[S.QUARANTINED, S.NEEDS_MATCH, S.RECEIVED])
            )
        )
        .order_by("service_point__name", "name")
    )


def freeze_date(device: EdgeDevice) -> dt.datetime | None:
    if device.last_sync_at is None:
        return None
    return device.last_sync_at + dt.timedelta(days=device.freeze_after_days)
