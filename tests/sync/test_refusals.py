"""Every refusal of edge sync, with its reason: unknown or revoked device, bad signature, hash
mismatch, the same id with other bytes, a frozen edge, and no card before penunggalan."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from ektp.cards import services as cards
from ektp.cards.printers import PdfProofPrinter
from ektp.enrollment.models import Enrollment
from ektp.residents.models import KtpStatus
from ektp.sync import edge, packets, services
from ektp.sync.client import OfficeClient
from ektp.sync.models import EdgeNode, InboundPacket, OutboxPacket
from tests.cards.factories import PrinterDeviceFactory
from tests.enrollment.factories import simulated
from tests.residents.factories import ResidentFactory

from .conftest import VILLAGE


def office(transport, device_id, key=None):
    return OfficeClient(transport, device_id=str(device_id), key=key or edge.keys.device_key())


def announce(client, packet, **override):
    meta = {
        "id": packet.id,
        "size": packet.size,
        "uid": str(packet.uid),
        "sequence": packet.sequence,
        "made_at": packet.made_at.isoformat(),
        **override,
    }
    return client.call("POST", "/packets", payload=meta)


def upload(client, packet_id, data, offset=0):
    return client.call("PUT", f"/packets/{packet_id}/content?offset={offset}", data=data)


def test_unknown_device_is_refused(enrolled, transport):
    stranger = office(transport, uuid.uuid4(), packets.new_signing_key())
    answer = stranger.call("GET", "/device")
    assert answer.status == 401
    assert answer.json()["rule"] == "sync_unknown_device"


def test_known_device_id_signed_by_another_key_is_refused(enrolled, transport):
    impostor = office(transport, enrolled.pk, packets.new_signing_key())
    answer = impostor.call("GET", "/device")
    assert answer.status == 401 and "tidak dikenal" in answer.json()["detail"]


def test_device_not_yet_approved_cannot_push(mobile_point, operator, supervisor, transport):
    device, code = services.register_device(
        name="Laptop baru",
        service_point=mobile_point,
        operator=operator,
        villages=[VILLAGE],
        actor=supervisor,
    )
    edge.enrol(server_url="http://testserver", code=code, transport=transport)
    resident = ResidentFactory(address_region_id=VILLAGE)
    packet = edge.record(nik=resident.nik, captures=simulated(resident.nik), operator="petugas")
    answer = announce(office(transport, device.pk), packet)
    assert answer.status == 403 and answer.json()["rule"] == "sync_not_approved"


def test_enrolment_code_is_used_once(mobile_point, operator, supervisor, transport):
    _, code = services.register_device(
        name="Laptop",
        service_point=mobile_point,
        operator=operator,
        villages=[VILLAGE],
        actor=supervisor,
    )
    edge.enrol(server_url="http://testserver", code=code, transport=transport)
    with pytest.raises(edge.EdgeError, match="sudah dipakai"):
        edge.enrol(server_url="http://testserver", code=code, transport=transport)


def test_revoked_device_later_packets_refused_earlier_quarantined(
    enrolled, recorded, supervisor, transport
):
    before_resident, before = recorded(at=timezone.now() - dt.timedelta(hours=2))
    services.revoke_device(device=enrolled, actor=supervisor, reason="Laptop hilang")
    _, after = recorded(at=timezone.now() + dt.timedelta(minutes=1))

    report = edge.sync(transport=transport)  # pushes both, learns its standing
    assert (report.pushed, report.refused, report.residents) == (1, 1, 0)
    assert edge.node().standing == "dicabut"

    quarantined = InboundPacket.objects.get(pk=before.id)
    assert quarantined.state == InboundPacket.State.QUARANTINED
    assert not Enrollment.objects.filter(resident=before_resident).exists()
    after.refresh_from_db()
    assert after.fate == "ditolak" and "dicabut" in after.reason
    assert InboundPacket.objects.get(pk=after.id).state == InboundPacket.State.REJECTED

    services.decide_quarantined(
        packet=quarantined, actor=supervisor, accept=True, reason="Dibuat sebelum hilang"
    )
    before_resident.refresh_from_db()
    assert before_resident.ktp_status == KtpStatus.SENT_FOR_ENROLLMENT


def test_revoked_edge_refuses_to_record(enrolled, recorded, supervisor, transport):
    services.revoke_device(device=enrolled, actor=supervisor, reason="Laptop dicuri")
    edge.sync(transport=transport)
    with pytest.raises(edge.EdgeFrozen, match="dicabut"):
        recorded()


def test_bad_signature_is_refused(enrolled, recorded, transport):
    resident, packet = recorded()
    envelope, _ = packets.parse(bytes(packet.content))
    forged = packets.build({**envelope, "seq": 99}, key=packets.new_signing_key())
    forged_id = packets.digest(forged)
    client = office(transport, enrolled.pk)
    assert announce(client, packet, id=forged_id, size=len(forged), sequence=99).status == 201
    answer = upload(client, forged_id, forged)
    assert answer.status == 422 and answer.json()["rule"] == "sync_bad_signature"
    assert InboundPacket.objects.get(pk=forged_id).state == InboundPacket.State.REJECTED
    assert not Enrollment.objects.filter(resident=resident).exists()


def test_hash_mismatch_is_refused_then_the_right_bytes_are_taken(enrolled, recorded, transport):
    resident, packet = recorded()
    data = bytes(packet.content)
    tampered = data.replace(resident.nik.encode(), b"1809010101950099")
    assert len(tampered) == len(data) and tampered != data
    client = office(transport, enrolled.pk)
    announce(client, packet)
    answer = upload(client, packet.id, tampered)
    assert answer.status == 422 and answer.json()["rule"] == "sync_hash_mismatch"
    fate = client.call("POST", "/fates", payload={"ids": [packet.id]}).json()[0]
    assert fate["fate"] == "kirim_ulang"
    edge.push(office=edge.client_for(edge.node(), transport))
    packet.refresh_from_db()
    assert packet.fate == "diproses"
    assert Enrollment.objects.filter(resident=resident).count() == 1


def test_same_id_with_other_bytes_is_refused_and_reported(enrolled, recorded, transport):
    _, packet = recorded()
    client = office(transport, enrolled.pk)
    assert announce(client, packet).status == 201
    answer = announce(client, packet, size=packet.size + 1)
    assert answer.status == 409 and answer.json()["rule"] == "sync_id_conflict"
    inbound = InboundPacket.objects.get(pk=packet.id)
    assert inbound.conflicts == 1 and "isi lain" in inbound.last_conflict


def test_same_uid_with_other_content_is_refused(enrolled, recorded, transport):
    _, packet = recorded()
    edge.push(office=edge.client_for(edge.node(), transport))
    envelope, _ = packets.parse(bytes(packet.content))
    other = packets.build(
        {**envelope, "at": "2026-01-01T00:00:00+00:00"}, key=edge.keys.device_key()
    )
    answer = announce(
        office(transport, enrolled.pk), packet, id=packets.digest(other), size=len(other)
    )
    assert answer.status == 409 and "sama sudah ada" in answer.json()["detail"]


def test_same_packet_twice_has_one_effect(enrolled, recorded, transport):
    resident, packet = recorded()
    client = office(transport, enrolled.pk)
    edge.push(office=client)
    first = announce(client, packet)
    again = upload(client, packet.id, bytes(packet.content))
    assert first.status == 200 and again.status == 200
    assert again.json()["state"] == "diproses"
    OutboxPacket.objects.filter(pk=packet.id).update(pushed_at=None)
    edge.push(office=client)
    assert InboundPacket.objects.filter(uid=packet.uid).count() == 1
    assert Enrollment.objects.filter(resident=resident).count() == 1
    assert resident.ktp_history.filter(to_status=KtpStatus.BIO_CAPTURED).count() == 1


def test_cut_transfer_resumes_from_the_offset(enrolled, recorded, transport):
    resident, packet = recorded()
    client = office(transport, enrolled.pk)
    announce(client, packet)
    half = packet.size // 2
    assert upload(client, packet.id, bytes(packet.content)[:half]).json()["received_bytes"] == half
    wrong = upload(client, packet.id, bytes(packet.content)[:10], offset=0)
    assert wrong.status == 409 and "byte" in wrong.json()["detail"]
    report = edge.push(office=client, chunk=1000)
    assert report.pushed == 1
    assert Enrollment.objects.get(resident=resident).node_id == enrolled.node_id


def test_frozen_edge_refuses_recording_until_it_syncs(enrolled, recorded, transport):
    EdgeNode.objects.update(last_sync_at=timezone.now() - dt.timedelta(days=3, minutes=1))
    with pytest.raises(edge.EdgeFrozen, match="belum sinkron dengan kantor selama 3 hari"):
        recorded()
    assert OutboxPacket.objects.count() == 0
    edge.sync(transport=transport)
    recorded()
    assert OutboxPacket.objects.count() == 1


def test_card_cannot_be_printed_before_penunggalan_says_unique(
    enrolled, recorded, transport, settings, tmp_path, supervisor
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EKTP_PRINT_JOB_DIR = tmp_path / "print-jobs"
    resident, packet = recorded()
    edge.sync(transport=transport)
    resident.refresh_from_db()
    assert resident.ktp_status == KtpStatus.SENT_FOR_ENROLLMENT
    PrinterDeviceFactory(service_point=enrolled.service_point)
    with pytest.raises(cards.NotPrintable, match="bukan siap cetak"):
        cards.print_card(
            request_or_resident=resident,
            service_point=enrolled.service_point,
            printer=PdfProofPrinter(),
            operator=supervisor,
        )
    packet.refresh_from_db()
    assert packet.fate == "diproses"


def test_same_resident_twice_on_one_edge_is_refused(enrolled, recorded):
    resident, _ = recorded()
    with pytest.raises(edge.EdgeError, match="sudah direkam di perangkat ini"):
        recorded(resident=resident)
    assert OutboxPacket.objects.count() == 1
