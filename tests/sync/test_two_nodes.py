"""Two nodes on loopback: the office (Django's live server, this process, the test database)
and an edge (its own process, its own SQLite file) behind a proxy that can cut the line."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from ektp.core.models import Role
from ektp.enrollment.models import Enrollment, StatusChange
from ektp.enrollment.services import complete_penunggalan
from ektp.offices.models import ServicePoint
from ektp.residents.models import KtpStatus
from ektp.sync import services
from ektp.sync.models import EdgeDevice, InboundPacket
from tests.offices.factories import ServicePointFactory
from tests.residents.factories import ResidentFactory

from .conftest import VILLAGE, open_days
from .loopback import CuttingProxy, EdgeProcess

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def proxy(live_server):
    port = int(live_server.url.rsplit(":", 1)[1])
    proxy = CuttingProxy(port)
    yield proxy
    proxy.close()


@pytest.fixture
def edge_node(tmp_path):
    node = EdgeProcess(tmp_path / "edge")
    yield node
    node.close()


def ok(answer: dict) -> str:
    assert answer["ok"], answer
    return answer["out"]


def test_offline_days_then_cut_line_and_resend_arrive_exactly_once(
    proxy, edge_node, make_staff, settings, tmp_path
):
    settings.EKTP_KEY_DIR = tmp_path / "office-keys"
    supervisor = make_staff(Role.SUPERVISOR)
    operator = make_staff(Role.OPERATOR)
    point = ServicePointFactory(kind=ServicePoint.Kind.MOBILE, code="MK-2", name="Mobil Keliling 2")
    now = timezone.now()
    open_days(point, *(timezone.localdate(now + dt.timedelta(days=n)) for n in range(4)))
    residents = [ResidentFactory(address_region_id=VILLAGE) for _ in range(3)]
    ResidentFactory(address_region_id="18.09.01.2002")  # another village: never pulled
    device, code = services.register_device(
        name="Laptop MK-2",
        service_point=point,
        operator=operator,
        villages=[VILLAGE],
        actor=supervisor,
    )
    server = f"http://127.0.0.1:{proxy.port}"

    ok(edge_node.run(f"enrol --server {server} --code {code}"))
    services.approve_device(device=device, actor=supervisor)
    first = json.loads(ok(edge_node.run("sync")))
    assert first["residents"] == 3

    # No signal for three days: the unit records one resident a day, and syncs in vain.
    proxy.down = True
    for day, resident in enumerate(residents):
        at = (now + dt.timedelta(days=day, minutes=5)).isoformat()
        ok(edge_node.run(f"record --nik {resident.nik} --at {at}"))
        failed = edge_node.run("sync")
        assert not failed["ok"] and "tidak dapat dihubungi" in failed["error"]
    frozen = edge_node.run(
        f"record --nik {residents[0].nik} --at {(now + dt.timedelta(days=3, minutes=1)).isoformat()}"
    )
    assert not frozen["ok"] and "belum sinkron dengan kantor selama 3 hari" in frozen["error"]
    status = json.loads(ok(edge_node.run("status")))
    assert status["waiting"] == 3 and status["last_error"]
    assert InboundPacket.objects.count() == 0

    # The signal returns, and the line drops in the middle of the first packet's bytes.
    proxy.down = False
    proxy.cut_after(6000)
    cut = edge_node.run("sync --chunk 2048")
    assert not cut["ok"] and proxy.cuts == 1
    assert InboundPacket.objects.filter(state=InboundPacket.State.RECEIVING).count() == 1
    assert Enrollment.objects.count() == 0

    done = json.loads(ok(edge_node.run("sync --chunk 2048")))
    assert done["pushed"] == 3 and done["fates"] == {"diproses": 3}

    # Every packet sent once more: one effect each.
    ok(edge_node.run("resend-all"))
    again = json.loads(ok(edge_node.run("sync")))
    assert again["pushed"] == 3 and again["refused"] == 0

    assert InboundPacket.objects.count() == 3
    assert set(InboundPacket.objects.values_list("state", flat=True)) == {"diproses"}
    for resident in residents:
        enrollment = Enrollment.objects.get(resident=resident)
        assert enrollment.node_id == EdgeDevice.objects.get().node_id
        assert StatusChange.objects.filter(resident=resident, to_status="BIO_CAPTURED").count() == 1
        resident.refresh_from_db()
        assert resident.ktp_status == KtpStatus.SENT_FOR_ENROLLMENT

    # Penunggalan says unique for one of them: the unit can tell the resident on the spot.
    complete_penunggalan(
        enrollment=Enrollment.objects.get(resident=residents[0]),
        outcome=KtpStatus.PRINT_READY_RECORD,
        actor=None,
        reason="Tunggal",
    )
    ok(edge_node.run("sync"))
    status = json.loads(ok(edge_node.run("status")))
    assert status["waiting"] == 0 and status["fates"] == {"prr": 1, "diproses": 2}
    assert status["days_before_freeze"] > 2.9 and not status["frozen"]
