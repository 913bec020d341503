"""The office's device page (register, approve, revoke, quarantine) and the edge's status page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ektp.core.models import Role
from ektp.sync import edge, services
from ektp.sync.models import EdgeDevice, EdgeNode, InboundPacket

from .conftest import VILLAGE


def test_supervisor_registers_a_device_and_sees_its_one_time_code(
    client, make_staff, mobile_point, operator
):
    client.force_login(make_staff(Role.SUPERVISOR))
    response = client.post(
        "/sinkron/perangkat/",
        {
            "name": "Laptop MK-9",
            "service_point": mobile_point.pk,
            "operator": operator.username,
            "villages": VILLAGE,
            "freeze_after_days": 3,
        },
    )
    assert response.status_code == 200
    device = EdgeDevice.objects.get(name="Laptop MK-9")
    assert "ektp edge enrol --server" in response.content.decode()
    assert device.standing == EdgeDevice.Standing.AWAITING_ENROLMENT


def test_register_with_a_village_outside_the_office_is_refused(
    client, make_staff, mobile_point, operator
):
    client.force_login(make_staff(Role.SUPERVISOR))
    response = client.post(
        "/sinkron/perangkat/",
        {
            "name": "Laptop",
            "service_point": mobile_point.pk,
            "operator": operator.username,
            "villages": "18.01.01.2001",
            "freeze_after_days": 3,
        },
        HTTP_REFERER="http://testserver/sinkron/perangkat/",
    )
    assert response.status_code == 302
    assert not EdgeDevice.objects.exists()


def test_operator_sees_devices_but_cannot_approve(client, enrolled, operator):
    client.force_login(operator)
    page = client.get("/sinkron/perangkat/")
    assert page.status_code == 200 and "Laptop MK-1" in page.content.decode()
    assert client.post(f"/sinkron/perangkat/{enrolled.pk}/cabut/", {"reason": "x"}).status_code in (
        302,
        403,
    )
    enrolled.refresh_from_db()
    assert enrolled.standing == EdgeDevice.Standing.APPROVED


def test_supervisor_revokes_then_decides_on_quarantine(
    client, enrolled, recorded, supervisor, transport
):
    resident, packet = recorded(at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(supervisor)
    response = client.post(f"/sinkron/perangkat/{enrolled.pk}/cabut/", {"reason": "Hilang"})
    assert response.status_code == 302
    edge.sync(transport=transport)
    page = client.get("/sinkron/perangkat/").content.decode()
    assert "Karantina" in page and resident.nik in page
    client.post(f"/sinkron/paket/{packet.id}/tolak/", {"reason": "Tidak dapat dipastikan"})
    assert InboundPacket.objects.get(pk=packet.id).state == InboundPacket.State.REJECTED


def test_edge_status_page_shows_waiting_packets_and_days_before_freeze(
    client, enrolled, recorded, operator
):
    recorded()
    EdgeNode.objects.update(last_sync_at=timezone.now() - dt.timedelta(days=1))
    client.force_login(operator)
    page = client.get("/sinkron/lapangan/").content.decode()
    assert ("Paket menunggu dikirim" in page and "2,0" in page) or "2.0" in page
    EdgeNode.objects.update(last_sync_at=timezone.now() - dt.timedelta(days=4))
    page = client.get("/sinkron/lapangan/").content.decode()
    assert "Perekaman dihentikan" in page


def test_revoking_twice_is_refused(enrolled, supervisor):
    services.revoke_device(device=enrolled, actor=supervisor, reason="Hilang")
    with pytest.raises(services.SyncError, match="sudah dicabut"):
        services.revoke_device(device=enrolled, actor=supervisor, reason="Hilang")
