import datetime as dt

import pytest
from django.utils import timezone

from ektp.core.models import Role
from ektp.enrollment.biometrics import (
    TEMPLATE_BYTES,
    Capture,
    Modality,
    SimulatorDevice,
    capture_all,
)
from ektp.enrollment.models import BiometricException, BiometricSample, Enrollment, StatusChange
from ektp.enrollment.services import EnrollmentError, ExceptionIn, record_enrollment
from ektp.offices.models import SpecialDay
from ektp.offices.services import change_device_status
from tests.enrollment.factories import open_point, record, simulated
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db


def _nothing_written(resident):
    resident.refresh_from_db()
    assert resident.ktp_status == "BELUM_REKAM" and resident.recorded_on is None
    assert not Enrollment.objects.filter(resident=resident).exists()
    assert not StatusChange.objects.filter(resident=resident).exists()
    assert not BiometricSample.objects.exists()


def test_operator_records_a_resident_to_bio_captured_with_history(operator):
    resident = ResidentFactory()
    enrollment = record(operator, resident)
    resident.refresh_from_db()
    assert resident.ktp_status == "BIO_CAPTURED"
    assert resident.recorded_on == timezone.localdate()
    assert enrollment.samples.count() == 14
    change = StatusChange.objects.get(resident=resident)
    assert (change.from_status, change.to_status, change.actor) == (
        "BELUM_REKAM",
        "BIO_CAPTURED",
        operator,
    )
    assert change.service_point == enrollment.service_point and change.node_id == "office"


def test_missing_finger_with_an_exception_is_recorded_with_its_reason(operator):
    exceptions = {"finger_r2": ExceptionIn("amputasi", "Diamputasi 2019")}
    enrollment = record(operator, exceptions=exceptions)
    assert enrollment.samples.count() == 13
    exc = BiometricException.objects.get(enrollment=enrollment)
    assert (exc.modality, exc.reason) == ("finger_r2", "amputasi")


def test_missing_finger_without_an_exception_is_refused(operator):
    resident = ResidentFactory()
    point, kit = open_point()
    captures = simulated(skip={"finger_l3"})
    with pytest.raises(EnrollmentError, match="Jari tengah kiri belum direkam"):
        record_enrollment(
            resident=resident, service_point=point, device=kit, operator=operator, captures=captures
        )
    _nothing_written(resident)


@pytest.mark.parametrize(
    ("modality", "exc", "message"),
    [
        ("face", ExceptionIn("cedera"), "wajib direkam"),
        ("iris_left", ExceptionIn("lupa"), "amputasi, cedera atau disabilitas"),
        ("finger_r1", ExceptionIn("cedera", "x" * 201), "200 karakter"),
    ],
)
def test_bad_exception_is_refused(operator, modality, exc, message):
    resident = ResidentFactory()
    point, kit = open_point()
    with pytest.raises(EnrollmentError, match=message):
        record_enrollment(
            resident=resident,
            service_point=point,
            device=kit,
            operator=operator,
            captures=simulated(skip={modality}),
            exceptions={modality: exc},
        )
    _nothing_written(resident)


def test_capture_and_exception_for_the_same_modality_is_refused(operator):
    resident = ResidentFactory()
    point, kit = open_point()
    with pytest.raises(EnrollmentError, match="sekaligus"):
        record_enrollment(
            resident=resident,
            service_point=point,
            device=kit,
            operator=operator,
            captures=simulated(),
            exceptions={"finger_r1": ExceptionIn("cedera")},
        )
    _nothing_written(resident)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"template": b"\0" * 100}, "ukuran templat harus 512 byte, diterima 100"),
        ({"quality": 10}, "di bawah ambang"),
        ({"quality": 101}, "0–100"),
        ({"attempts": 9}, "percobaan"),
        ({"image": b"\0" * (2 * 1024 * 1024 + 1)}, "melebihi"),
    ],
)
def test_bad_sample_is_refused(operator, change, message):
    resident = ResidentFactory()
    point, kit = open_point()
    captures = simulated()
    face = captures["face"]
    captures["face"] = Capture(
        "face",
        change.get("template", face.template),
        change.get("quality", face.quality),
        change.get("image", face.image),
        change.get("attempts", 1),
    )
    with pytest.raises(EnrollmentError, match=message):
        record_enrollment(
            resident=resident, service_point=point, device=kit, operator=operator, captures=captures
        )
    _nothing_written(resident)


def test_unknown_modality_is_refused(operator):
    resident = ResidentFactory()
    point, kit = open_point()
    captures = simulated()
    captures["ekor"] = Capture("ekor", b"x", 90)
    with pytest.raises(EnrollmentError, match="tidak dikenal"):
        record_enrollment(
            resident=resident, service_point=point, device=kit, operator=operator, captures=captures
        )
    _nothing_written(resident)


def test_recording_twice_is_refused(operator):
    resident = ResidentFactory()
    enrollment = record(operator, resident)
    with pytest.raises(EnrollmentError, match="sekali seumur hidup"):
        record(operator, resident, point=enrollment.service_point, kit=enrollment.device)
    assert Enrollment.objects.filter(resident=resident).count() == 1
    assert StatusChange.objects.filter(resident=resident).count() == 1


def test_recording_with_a_broken_kit_is_refused_with_its_reason(operator, make_staff):
    resident = ResidentFactory()
    point, kit = open_point()
    change_device_status(
        device=kit, to="broken", actor=make_staff(Role.SUPERVISOR), reason="Sensor sidik jari pecah"
    )
    kit.refresh_from_db()
    with pytest.raises(EnrollmentError, match="Sensor sidik jari pecah"):
        record(operator, resident, point=point, kit=kit)
    _nothing_written(resident)


def test_recording_at_a_closed_point_is_refused(operator):
    resident = ResidentFactory()
    point, kit = open_point()
    SpecialDay.objects.filter(service_point=point).update(
        is_open=False, opens_at=None, closes_at=None, reason="Rapat koordinasi"
    )
    with pytest.raises(EnrollmentError, match=r"tutup.*Rapat koordinasi"):
        record(operator, resident, point=point, kit=kit)
    _nothing_written(resident)


def test_recording_by_an_operator_of_another_district_is_refused(make_staff):
    outsider = make_staff(Role.OPERATOR, region="18.01", username="operator-lain")
    resident = ResidentFactory()
    with pytest.raises(EnrollmentError, match="luar wilayah kerja"):
        record(outsider, resident)
    _nothing_written(resident)


def test_gate_officer_may_not_record(make_staff):
    resident = ResidentFactory()
    with pytest.raises(EnrollmentError, match="Peran"):
        record(make_staff(Role.GATE_OFFICER), resident)
    _nothing_written(resident)


def test_dead_resident_is_not_recorded(operator):
    resident = ResidentFactory(life_status="meninggal")
    with pytest.raises(EnrollmentError, match="Meninggal"):
        record(operator, resident)


def test_under_17_unmarried_may_record(operator):
    resident = ResidentFactory(birth_date=timezone.localdate() - dt.timedelta(days=365 * 16))
    record(operator, resident)
    resident.refresh_from_db()
    assert resident.ktp_status == "BIO_CAPTURED"


def test_simulator_is_repeatable_and_retries_up_to_the_limit():
    first, _ = capture_all(device=SimulatorDevice(seed="a"))
    again, _ = capture_all(device=SimulatorDevice(seed="a"))
    assert {m: c.template for m, c in first.items()} == {m: c.template for m, c in again.items()}
    assert all(len(c.template) == TEMPLATE_BYTES[m] for m, c in first.items())
    accepted, failed = capture_all(
        device=SimulatorDevice(seed="b", low_quality={"finger_r1": 2, "finger_l1": 3})
    )
    assert accepted["finger_r1"].attempts == 3
    assert "finger_l1" in failed and failed["finger_l1"].attempts <= 3
    assert set(accepted) | set(failed) == set(Modality.values)
