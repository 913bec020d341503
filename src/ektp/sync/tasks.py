"""Background work of edge sync: packets stored and verified but not yet handed on."""

from __future__ import annotations

from django_tasks import task

from ektp.sync import services
from ektp.sync.models import InboundPacket


@task()
def process_received_packets() -> int:
    """Hand every received packet to the lifecycle (safe to run twice); return how many."""
    done = 0
    for packet_id in InboundPacket.objects.filter(state=InboundPacket.State.RECEIVED).values_list(
        "pk", flat=True
    ):
        services.process_packet(packet_id=packet_id)
        done += 1
    return done
