"""What the protocol keeps besides refusals: key rotation, clock skew, reference data by
cursor, fates flowing back, a resident the office does not know."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.utils import timezone

from ektp.enrollment.models import Enrollment
from ektp.enrollment.services import complete_penunggalan
from ektp.residents.models import KtpStatus, Resident
from ektp.sync import edge, keys, packets, services
from ektp.sync.client import OfficeClient
from ektp.sync.models import EdgeDevice, InboundPacket, ReferenceResident
from tests.enrollment.factories import simulated
from tests.residents.factories import ResidentFactory

from .conftest import VILLAGE


def test_reference_data_comes_down_by_cursor_and_only_for_assigned_villages(enrolled, transport):
    mine = [ResidentFactory(address_region_id=VILLAGE) for _ in range(3)]
    ResidentFactory(address_region_id="18.09.01.2002")
    report = edge.sync(transport=transport)
    assert report.residents == 3
    assert set(ReferenceResident.objects.values_list("nik", flat=True)) == {r.nik for r in mine}
    assert edge.node().reference_cursor

    assert edge.sync(transport=transport).residents == 0  # nothing changed
    Resident.objects.filter(pk=mine[0].pk).update(
        name="NAMA BARU", updated_at=timezone.now() + dt.timedelta(seconds=1)
    )
    assert edge.sync(transport=transport).residents == 1
    assert ReferenceResident.objects.get(nik=mine[0].nik).name == "NAMA BARU"


def test_reference_cursor_that_is_garbage_starts_from_the_beginning(enrolled, transport):
    ResidentFactory(address_region_id=VILLAGE)
    office = edge.client_for(edge.node(), transport)
    answer = office.call("GET", "/reference?cursor=bukan-kursor")
    assert answer.status == 200 and len(answer.json()["residents"]) == 1


def test_fates_flow_back_to_the_edge(enrolled, recorded, transport):
    resident, packet = recorded()
    edge.sync(transport=transport)
    packet.refresh_from_db()
    assert packet.fate == "diproses"
    complete_penunggalan(
        enrollment=Enrollment.objects.get(resident=resident),
        outcome=KtpStatus.PRINT_READY_RECORD,
        actor=None,
        reason="Tunggal",
    )
    edge.sync(transport=transport)
    packet.refresh_from_db()
    assert packet.fate == "prr"


def test_resident_unknown_to_the_office_waits_to_be_matched(enrolled, transport):
    packet = edge.record(nik="1809015001900099", captures=simulated("baru"), operator="petugas")
    edge.sync(transport=transport)
    packet.refresh_from_db()
    assert packet.fate == "perlu_cocok" and "pencocokan" in packet.reason
    assert InboundPacket.objects.get(pk=packet.id).state == InboundPacket.State.NEEDS_MATCH


def test_resident_recorded_at_the_office_meanwhile_is_a_duplicate(
    enrolled, recorded, transport, operator
):
    from tests.enrollment.factories import record

    resident, packet = recorded()
    record(operator, resident=resident)
    edge.sync(transport=transport)
    packet.refresh_from_db()
    assert packet.fate == "ganda"
    assert Enrollment.objects.filter(resident=resident).count() == 1


def test_re_enrolling_rotates_the_key_and_old_packets_still_verify(
    enrolled, recorded, supervisor, transport
):
    _, old = recorded()
    old_key = keys.device_key()
    code = services.issue_enrolment_code(device=enrolled, actor=supervisor)
    edge.enrol(server_url="http://testserver", code=code, transport=transport)
    assert packets.public_bytes(keys.device_key()) != packets.public_bytes(old_key)
    enrolled.refresh_from_db()
    assert enrolled.standing == EdgeDevice.Standing.PENDING
    services.approve_device(device=enrolled, actor=supervisor)

    stale = OfficeClient(transport, device_id=str(enrolled.pk), key=old_key)
    assert stale.call("GET", "/device").status == 401
    edge.sync(transport=transport)
    old.refresh_from_db()
    assert old.fate == "diproses"  # signed with the retired key, made before the rotation
    assert enrolled.keys.count() == 2 and enrolled.keys.filter(retired_at__isnull=True).count() == 1


def test_clock_off_beyond_tolerance_is_flagged_and_both_times_kept(
    enrolled, recorded, transport, settings
):
    settings.EKTP_EDGE_CLOCK_TOLERANCE_SECONDS = 300
    _, packet = recorded()
    office = edge.client_for(edge.node(), transport)
    late = timezone.now() - dt.timedelta(hours=2)

    slow = OfficeClient(transport, device_id=office.device_id, key=office.key, clock=lambda: late)
    edge.push(office=slow)
    inbound = InboundPacket.objects.get(pk=packet.id)
    assert inbound.clock_flagged
    assert inbound.device_time == packet.made_at and inbound.received_at > packet.made_at
    enrolled.refresh_from_db()
    assert enrolled.clock_skew_seconds < -7000


def test_sealed_biometrics_open_only_with_the_office_key(enrolled, recorded):
    _, packet = recorded()
    envelope, _ = packets.parse(bytes(packet.content))
    sealed = packets.unb64(envelope["sealed"])
    with pytest.raises(packets.PacketError):
        packets.open_sealed(
            sealed, office_private=X25519PrivateKey.generate(), associated=packet.uid.bytes
        )
    with pytest.raises(packets.PacketError):  # bound to its packet: not movable to another
        packets.open_sealed(sealed, office_private=keys.office_seal_key(), associated=b"x" * 16)
    opened = packets.open_sealed(
        sealed, office_private=keys.office_seal_key(), associated=packet.uid.bytes
    )
    assert b"template" in opened


def test_received_packet_left_unprocessed_is_taken_up_by_the_task(
    enrolled, recorded, supervisor, transport
):
    from ektp.sync.tasks import process_received_packets

    resident, packet = recorded(at=timezone.now() - dt.timedelta(hours=1))
    services.revoke_device(device=enrolled, actor=supervisor, reason="Hilang")
    edge.sync(transport=transport)
    InboundPacket.objects.filter(pk=packet.id).update(state=InboundPacket.State.RECEIVED)
    assert process_received_packets.call() == 1
    assert process_received_packets.call() == 0  # twice: one effect
    assert Enrollment.objects.filter(resident=resident).count() == 1


def test_bytes_spoiled_in_transit_are_refused_and_sent_again_at_the_next_sync(
    enrolled, recorded, transport
):
    resident, packet = recorded()

    class Spoiling:
        """A line that flips one byte of the first upload it carries."""

        spoiled = False

        def send(self, method, path, *, body, headers):
            if method == "PUT" and not self.spoiled:
                self.spoiled = True
                body = body[:-2] + bytes([body[-2] ^ 1]) + body[-1:]
            return transport.send(method, path, body=body, headers=headers)

    office = edge.client_for(edge.node(), Spoiling())
    with pytest.raises(edge.EdgeError, match="tanda tangan permintaan tidak sah"):
        edge.push(office=office)  # the request's signature covers its body
    packet.refresh_from_db()
    assert packet.pushed_at is None
    assert InboundPacket.objects.get(pk=packet.id).received_bytes == 0
    assert edge.push(office=office).pushed == 1
    packet.refresh_from_db()
    assert packet.fate == "diproses"
    assert Enrollment.objects.filter(resident=resident).count() == 1


def test_the_daily_run_takes_up_a_received_packet_left_unprocessed(
    enrolled, recorded, supervisor, transport
):
    from django.core.management import call_command

    resident, packet = recorded(at=timezone.now() - dt.timedelta(hours=1))
    services.revoke_device(device=enrolled, actor=supervisor, reason="Hilang")
    edge.sync(transport=transport)
    InboundPacket.objects.filter(pk=packet.id).update(state=InboundPacket.State.RECEIVED)
    call_command("daily", stdout=io.StringIO())
    assert InboundPacket.objects.get(pk=packet.id).state != InboundPacket.State.RECEIVED
    assert Enrollment.objects.filter(resident=resident).count() == 1
