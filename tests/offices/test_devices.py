import pytest

from ektp.core.models import AuditEvent, Role
from ektp.offices.calendar import recording_capacity
from ektp.offices.models import Device, DeviceStatusChange
from ektp.offices.services import OfficeError, change_device_status, recording_blocked
from tests.offices.factories import DeviceFactory, PrinterFactory, ServicePointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR)


def test_status_change_is_recorded_with_who_when_from_to_and_why(supervisor):
    kit = DeviceFactory()
    change = change_device_status(
        device=kit, to=Device.Status.BROKEN, actor=supervisor, reason="Kamera iris mati"
    )
    kit.refresh_from_db()
    assert (kit.status, kit.status_reason) == ("broken", "Kamera iris mati")
    assert (change.from_status, change.to_status, change.changed_by) == (
        "active",
        "broken",
        supervisor,
    )
    assert change.changed_at is not None and kit.status_changed_at == change.changed_at
    change_device_status(device=kit, to="active", actor=supervisor, reason="Sudah diperbaiki")
    kit.refresh_from_db()
    assert kit.status_reason == ""
    assert list(kit.status_changes.order_by("changed_at").values_list("to_status", flat=True)) == [
        "broken",
        "active",
    ]
    assert AuditEvent.objects.filter(object_type="device", object_id=str(kit.pk)).count() == 2


@pytest.mark.parametrize(
    ("to", "reason", "message"),
    [
        ("meledak", "x", "tidak dikenal"),
        ("broken", "", "Alasan wajib diisi"),
        ("broken", "   ", "Alasan wajib diisi"),
        ("broken", "x" * 251, "250 karakter"),
        ("active", "tetap", "sudah berstatus"),
    ],
)
def test_bad_status_change_is_refused_and_nothing_changes(supervisor, to, reason, message):
    kit = DeviceFactory()
    with pytest.raises(OfficeError, match=message):
        change_device_status(device=kit, to=to, actor=supervisor, reason=reason)
    kit.refresh_from_db()
    assert kit.status == "active" and not DeviceStatusChange.objects.exists()


def test_operator_may_not_change_device_status(operator):
    kit = DeviceFactory()
    with pytest.raises(OfficeError, match="supervisor"):
        change_device_status(device=kit, to="broken", actor=operator, reason="rusak")


def test_supervisor_of_another_district_may_not_change_device_status(make_staff):
    outsider = make_staff(Role.SUPERVISOR, region="18.01", username="kadis-lain")
    kit = DeviceFactory()
    with pytest.raises(OfficeError, match="luar wilayah"):
        change_device_status(device=kit, to="broken", actor=outsider, reason="rusak")


def test_capacity_counts_only_working_recording_kits(supervisor):
    point = ServicePointFactory(per_kit_daily_throughput=60)
    kits = DeviceFactory.create_batch(3, service_point=point)
    PrinterFactory(service_point=point)
    assert recording_capacity(point) == 180
    change_device_status(device=kits[0], to="broken", actor=supervisor, reason="Sensor jari rusak")
    change_device_status(
        device=kits[1], to="in_repair", actor=supervisor, reason="Dikirim ke pusat"
    )
    assert recording_capacity(point) == 60


def test_broken_kit_blocks_recording_with_its_reason_but_not_printing(supervisor):
    point = ServicePointFactory()
    kit = DeviceFactory(service_point=point)
    printer = PrinterFactory(service_point=point)
    assert recording_blocked(point=point, device=kit) is None
    change_device_status(device=kit, to="broken", actor=supervisor, reason="Kamera iris mati")
    kit.refresh_from_db()
    assert "Kamera iris mati" in recording_blocked(point=point, device=kit)
    assert "Kamera iris mati" in recording_blocked(point=point)
    printer.refresh_from_db()
    assert printer.is_working


def test_broken_kit_at_one_point_does_not_block_another(supervisor):
    kit = DeviceFactory()
    other = DeviceFactory()
    change_device_status(device=kit, to="broken", actor=supervisor, reason="rusak")
    assert recording_blocked(point=other.service_point, device=other) is None


def test_printer_or_foreign_kit_cannot_be_used_for_recording():
    point = ServicePointFactory()
    printer = PrinterFactory(service_point=point)
    DeviceFactory(service_point=point)
    foreign = DeviceFactory()
    assert "bukan alat perekaman" in recording_blocked(point=point, device=printer)
    assert "bukan milik" in recording_blocked(point=point, device=foreign)
    assert "tidak memiliki alat" in recording_blocked(point=ServicePointFactory())
