"""Biometrics for a seeded demo district: the seeder writes statuses, not samples, so each
BIO_CAPTURED resident gets simulated ones here (synthetic, never real people), recorded at
the office by the demo operator on the day the seed says."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ektp.core.models import User
from ektp.enrollment import crypto
from ektp.enrollment.biometrics import SimulatorDevice, capture_all
from ektp.enrollment.models import BiometricSample, Enrollment
from ektp.offices.models import Device, Office
from ektp.residents.models import KtpStatus, Resident

DEMO_OPERATOR = "operator"


@transaction.atomic
def ensure_demo_recordings(office: Office) -> int:
    """Store simulated biometrics for the office's BIO_CAPTURED residents that have none;
    return how many were stored (the seed keeps them few: recordings of the last 30 days)."""
    kit = (
        Device.objects.filter(
            service_point__office=office,
            service_point__code="KANTOR",
            kind=Device.Kind.RECORDING_KIT,
        )
        .select_related("service_point")
        .order_by("serial_number")
        .first()
    )
    operator = User.objects.filter(username=DEMO_OPERATOR).first()
    if kit is None or operator is None:
        return 0
    residents = Resident.objects.filter(
        kabkota_code=office.region_id,
        ktp_status=KtpStatus.BIO_CAPTURED,
        enrollment__isnull=True,
    ).order_by("nik")
    stored = 0
    zone = timezone.get_current_timezone()
    for resident in residents:
        captures, _ = capture_all(device=SimulatorDevice(seed=str(resident.pk)))
        day = resident.recorded_on or timezone.localdate()
        enrollment = Enrollment.objects.create(
            resident=resident,
            service_point=kit.service_point,
            device=kit,
            operator=operator,
            node_id="seed",
            capture_driver=SimulatorDevice.name,
            captured_at=dt.datetime.combine(day, dt.time(10, 0), tzinfo=zone),
        )
        BiometricSample.objects.bulk_create(
            BiometricSample(
                enrollment=enrollment,
                modality=modality,
                quality=got.quality,
                attempts=got.attempts,
                template_size=len(got.template),
                template_ciphertext=crypto.encrypt(got.template),
                image_ciphertext=crypto.encrypt(got.image) if got.image else None,
            )
            for modality, got in captures.items()
        )
        stored += 1
    return stored
