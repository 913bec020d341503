"""The edge node's own writes: enrol with the office, record residents into signed packets in
the outbox, push them, read their fates, pull reference data; and the freeze."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ektp.core.errors import DomainError
from ektp.enrollment.biometrics import Capture
from ektp.enrollment.services import ExceptionIn, check_samples
from ektp.sync import keys, packets
from ektp.sync.client import Answer, HttpTransport, OfficeClient, ServerUnreachable, quote
from ektp.sync.models import EdgeNode, OutboxPacket, ReferenceRegion, ReferenceResident

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
# Fates after which the office will not change its answer: the edge stops asking.
FINAL_FATES = {"dicetak", "ditolak", "ganda", "gagal_rekam"}
ASK_AGAIN = {"kirim_ulang", "tidak_dikenal"}
# Refusals about the device, not the packet: the push stops and the next sync tries again.
STOP_RULES = {"sync_unknown_device", "sync_not_approved"}


class EdgeError(DomainError, ValueError):
    """The edge refuses an action; the message says why."""

    rule = "edge"


class EdgeFrozen(EdgeError):
    """Too long without sync: the edge takes no new recording until it syncs."""

    rule = "edge_frozen"
    status = 423


def node() -> EdgeNode | None:
    return EdgeNode.objects.filter(pk=1).first()


def _required() -> EdgeNode:
    found = node()
    if found is None:
        raise EdgeError(_("Perangkat ini belum didaftarkan ke kantor (ektp edge enrol)."))
    return found


def client_for(found: EdgeNode, transport=None) -> OfficeClient:
    return OfficeClient(
        transport or HttpTransport(found.server_url),
        device_id=str(found.device_id),
        key=keys.device_key(),
    )


def _refusal(answer: Answer) -> EdgeError:
    body = answer.json() or {}
    detail = body.get("detail") if isinstance(body, dict) else None
    error = EdgeError(detail or f"Kantor menjawab {answer.status}.")
    error.rule = body.get("rule", "edge") if isinstance(body, dict) else "edge"
    error.status = answer.status
    return error


def enrol(*, server_url: str, code: str, transport=None) -> EdgeNode:
    """Enrol this laptop with the office's one-time code; a second enrolment rotates the key."""
    key = packets.new_signing_key()
    office = OfficeClient(transport or HttpTransport(server_url))
    answer = office.call(
        "POST",
        "/enrol",
        payload={"code": code, "public_key": packets.b64(packets.public_bytes(key))},
    )
    if answer.status != 201:
        raise _refusal(answer)
    body = answer.json()
    keys.store_device_key(key)
    now = timezone.now()
    with transaction.atomic():
        current = EdgeNode.objects.select_for_update().filter(pk=1).first()
        fields = {
            "server_url": server_url,
            "device_id": body["device_id"],
            "key_fingerprint": packets.fingerprint(packets.public_bytes(key)),
            "office_seal_key": packets.unb64(body["office_seal_key"]),
            "service_point": body["service_point"],
            "villages": body["villages"],
            "freeze_after_days": body["freeze_after_days"],
            "standing": body["standing"],
            "enrolled_at": now,
            "last_error": "",
        }
        if current is None:
            return EdgeNode.objects.create(pk=1, last_sync_at=now, **fields)
        if str(current.device_id) != str(body["device_id"]):
            # Another device: the earlier one's sequence, cursor and data are not ours.
            if OutboxPacket.objects.filter(pushed_at__isnull=True).exists():
                raise EdgeError(
                    _(
                        "Masih ada paket yang belum terkirim; kirim dulu sebelum mendaftar "
                        "sebagai perangkat lain."
                    )
                )
            fields.update(next_sequence=1, reference_cursor="")
        for name, value in fields.items():
            setattr(current, name, value)
        current.save()
        return current


def frozen_reason(found: EdgeNode, now: dt.datetime | None = None) -> str:
    """Say why this edge takes no new recording, or '' when it may record."""
    now = now or timezone.now()
    if found.standing == "dicabut":
        return _("Perangkat ini sudah dicabut oleh kantor; perekaman tidak dapat dilakukan.")
    since = found.last_sync_at or found.enrolled_at
    days = (now - since).total_seconds() / 86400
    if days >= found.freeze_after_days:
        return _(
            "Perekaman dihentikan: perangkat ini belum sinkron dengan kantor selama %(days)d hari "
            "(batas %(limit)d hari). Sambungkan ke internet dan jalankan sinkronisasi agar hasil "
            "rekaman sampai ke kantor dalam 3 hari."
        ) % {"days": int(days), "limit": found.freeze_after_days}
    return ""


def days_before_freeze(found: EdgeNode, now: dt.datetime | None = None) -> float:
    now = now or timezone.now()
    since = found.last_sync_at or found.enrolled_at
    return found.freeze_after_days - (now - since).total_seconds() / 86400


def record(
    *,
    nik: str,
    captures: Mapping[str, Capture],
    exceptions: Mapping[str, ExceptionIn] | None = None,
    operator: str,
    at: dt.datetime | None = None,
) -> OutboxPacket:
    """Seal a recording to the office, sign it and put it in the outbox."""
    exceptions = dict(exceptions or {})
    nik = (nik or "").strip()
    if len(nik) != 16 or not nik.isdigit():
        raise EdgeError(_("NIK harus 16 digit angka."))
    problems = check_samples(captures, exceptions)
    if problems:
        raise EdgeError(" ".join(problems))
    key = keys.device_key()
    at = (at or timezone.now()).astimezone(dt.UTC).replace(microsecond=0)
    uid = uuid.uuid4()
    with transaction.atomic():
        found = EdgeNode.objects.select_for_update().filter(pk=1).first()
        if found is None or key is None:
            raise EdgeError(_("Perangkat ini belum didaftarkan ke kantor (ektp edge enrol)."))
        why = frozen_reason(found, now=at)
        if why:
            raise EdgeFrozen(why)
        if OutboxPacket.objects.filter(nik=nik).exclude(fate="ditolak").exists():
            raise EdgeError(
                _("Penduduk ini sudah direkam di perangkat ini; perekaman hanya sekali.")
            )
        sealed = packets.seal(
            packets.canonical(
                {
                    modality: {
                        "template": packets.b64(got.template),
                        "image": packets.b64(got.image or b""),
                    }
                    for modality, got in captures.items()
                }
            ),
            office_public=bytes(found.office_seal_key),
            associated=uid.bytes,
        )
        listed = ReferenceResident.objects.filter(nik=nik).first()
        envelope = {
            "uid": str(uid),
            "device": str(found.device_id),
            "key": found.key_fingerprint,
            "seq": found.next_sequence,
            "at": at.isoformat(),
            "kind": "perekaman",
            "body": {
                "nik": nik,
                "operator": operator[:150],
                "listed": listed is not None,
                "samples": [
                    {"modality": m, "quality": got.quality, "attempts": got.attempts}
                    for m, got in sorted(captures.items())
                ],
                "exceptions": {
                    m: {"reason": e.reason, "note": e.note} for m, e in sorted(exceptions.items())
                },
            },
            "sealed": packets.b64(sealed),
        }
        data = packets.build(envelope, key=key)
        packet = OutboxPacket.objects.create(
            id=packets.digest(data),
            uid=uid,
            sequence=found.next_sequence,
            kind="perekaman",
            nik=nik,
            content=data,
            size=len(data),
            made_at=at,
        )
        found.next_sequence += 1
        found.save(update_fields=["next_sequence"])
        if listed is not None:
            listed.recorded_here = True
            listed.save(update_fields=["recorded_here"])
    return packet


@dataclass
class SyncReport:
    pushed: int = 0
    refused: int = 0
    fates: dict | None = None
    residents: int = 0


def _push_one(office: OfficeClient, packet: OutboxPacket, chunk: int) -> tuple[str, str]:
    meta = {
        "id": packet.id,
        "size": packet.size,
        "uid": str(packet.uid),
        "sequence": packet.sequence,
        "made_at": packet.made_at.isoformat(),
    }
    data = bytes(packet.content)
    while True:
        answer = office.call("POST", "/packets", payload=meta)
        if answer.status not in (200, 201):
            raise _refusal(answer)
        state = answer.json()
        offset = state["received_bytes"]
        if state["state"] != "menerima":
            return state["state"], state["reason"]
        resume = False
        while offset < packet.size:
            piece = data[offset : offset + chunk]
            answer = office.call("PUT", f"/packets/{packet.id}/content?offset={offset}", data=piece)
            body = answer.json() or {}
            if answer.status == 409 and body.get("rule") == "sync_offset":
                resume = True  # the office holds a different offset: ask it again
                break
            if answer.status != 200:
                raise _refusal(answer)
            offset = body["received_bytes"]
            if body["state"] != "menerima":
                return body["state"], body["reason"]
        if not resume:
            return "menerima", ""


def push(*, office: OfficeClient, chunk: int = CHUNK_BYTES) -> SyncReport:
    """Push every packet not yet taken by the office, oldest first; stop when it cannot be
    reached (what was sent stays sent: the next push resumes)."""
    report = SyncReport()
    for packet in OutboxPacket.objects.filter(pushed_at__isnull=True).order_by("sequence"):
        try:
            state, reason = _push_one(office, packet, chunk)
        except EdgeError as refusal:
            if refusal.rule in STOP_RULES or refusal.status >= 500:
                raise
            if refusal.rule == "sync_hash_mismatch":  # spoiled on the way: send again later
                packet.fate, packet.reason = "kirim_ulang", refusal.message[:250]
            else:
                packet.fate, packet.reason = "ditolak", refusal.message[:250]
                packet.pushed_at = timezone.now()
            packet.save(update_fields=["fate", "reason", "pushed_at"])
            report.refused += 1
            continue
        packet.fate, packet.reason = state, reason[:250]
        packet.pushed_at = timezone.now()
        packet.save(update_fields=["fate", "reason", "pushed_at"])
        report.pushed += 1
    return report


def pull_fates(*, office: OfficeClient) -> dict[str, int]:
    """Ask the office what became of every pushed packet whose fate may still change."""
    open_ids = list(
        OutboxPacket.objects.filter(pushed_at__isnull=False)
        .exclude(fate__in=FINAL_FATES)
        .values_list("id", flat=True)
    )
    counts: dict[str, int] = {}
    for start in range(0, len(open_ids), 500):
        batch = open_ids[start : start + 500]
        answer = office.call("POST", "/fates", payload={"ids": batch})
        if answer.status != 200:
            raise _refusal(answer)
        now = timezone.now()
        for row in answer.json():
            update = {"fate": row["fate"], "reason": row["reason"][:250], "checked_at": now}
            if row["fate"] in ASK_AGAIN:
                update["pushed_at"] = None  # the office lost or refused the bytes: send again
            OutboxPacket.objects.filter(pk=row["id"]).update(**update)
            counts[row["fate"]] = counts.get(row["fate"], 0) + 1
    return counts


def pull_reference(*, office: OfficeClient) -> int:
    """Pull the residents of the assigned villages changed since the last cursor."""
    found = _required()
    cursor, total = found.reference_cursor, 0
    while True:
        answer = office.call("GET", f"/reference?cursor={quote(cursor)}")
        if answer.status != 200:
            raise _refusal(answer)
        page = answer.json()
        with transaction.atomic():
            for region in page["regions"]:
                ReferenceRegion.objects.update_or_create(
                    code=region["code"], defaults={"name": region["name"], "level": region["level"]}
                )
            for row in page["residents"]:
                nik = row.pop("nik")
                ReferenceResident.objects.update_or_create(nik=nik, defaults=row)
            cursor = page["cursor"]
            EdgeNode.objects.filter(pk=1).update(
                reference_cursor=cursor,
                freeze_after_days=page["freeze_after_days"],
                standing=page["standing"],
            )
        total += len(page["residents"])
        if not page["more"]:
            return total


def sync(*, transport=None, chunk: int = CHUNK_BYTES) -> SyncReport:
    """One round with the office: standing, push, fates, reference data."""
    found = _required()
    office = client_for(found, transport)
    now = timezone.now()
    EdgeNode.objects.filter(pk=1).update(last_attempt_at=now)
    try:
        answer = office.call("GET", "/device")
        if answer.status != 200:
            raise _refusal(answer)
        standing = answer.json()
        EdgeNode.objects.filter(pk=1).update(
            standing=standing["standing"], freeze_after_days=standing["freeze_after_days"]
        )
        report = push(office=office, chunk=chunk)
        report.fates = pull_fates(office=office)
        if standing["standing"] == "disetujui":
            report.residents = pull_reference(office=office)
    except (ServerUnreachable, EdgeError) as error:
        EdgeNode.objects.filter(pk=1).update(last_error=str(error)[:300])
        raise
    EdgeNode.objects.filter(pk=1).update(last_sync_at=timezone.now(), last_error="")
    return report
