"""The same packet pushed from several connections at once arrives once (PostgreSQL)."""

from __future__ import annotations

import pytest

from ektp.enrollment.models import Enrollment
from ektp.sync import services
from ektp.sync.models import InboundPacket
from tests.threads import run_in_threads


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_packet_from_four_connections_has_one_effect(enrolled, recorded):
    resident, packet = recorded()
    data = bytes(packet.content)

    def push():
        services.announce_packet(
            device=enrolled,
            packet_id=packet.id,
            size=packet.size,
            uid=packet.uid,
            sequence=packet.sequence,
            made_at=packet.made_at,
        )
        try:
            services.receive_bytes(device=enrolled, packet_id=packet.id, offset=0, chunk=data)
        except services.SyncError as error:
            assert error.rule == "sync_offset"  # another connection was first: resume there

    errors = run_in_threads(push, 4)
    assert errors == []
    assert InboundPacket.objects.get().state == InboundPacket.State.PROCESSED
    assert Enrollment.objects.filter(resident=resident).count() == 1
    assert resident.ktp_history.filter(to_status="BIO_CAPTURED").count() == 1
