import logging

import pytest
from django.test import override_settings

from ektp.core.models import AuditEvent, Role
from ektp.enrollment import crypto
from ektp.enrollment.models import BiometricSample
from ektp.enrollment.services import EnrollmentError, read_sample
from tests.enrollment.factories import record, simulated
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db


def test_stored_bytes_are_not_the_template_and_decrypt_round_trips(operator):
    resident = ResidentFactory()
    captures = simulated(str(resident.pk))
    enrollment = record(operator, resident, captures=captures)
    for sample in BiometricSample.objects.filter(enrollment=enrollment):
        stored = bytes(sample.template_ciphertext)
        assert captures[sample.modality].template not in stored
        assert crypto.decrypt(stored) == captures[sample.modality].template
    face = enrollment.samples.get(modality="face")
    assert crypto.decrypt(face.image_ciphertext) == captures["face"].image


def test_every_read_is_audited(operator):
    enrollment = record(operator)
    sample = enrollment.samples.get(modality="iris_left")
    assert not AuditEvent.objects.filter(action="read_biometric").exists()
    template, image = read_sample(sample=sample, actor=operator, purpose="verifikasi")
    assert len(template) == 512 and image == b""
    read_sample(sample=sample, actor=operator, purpose="verifikasi")
    events = AuditEvent.objects.filter(action="read_biometric", object_id=str(sample.pk))
    assert events.count() == 2
    assert events.first().detail["modality"] == "iris_left"
    assert template.hex() not in str(events.first().detail)


def test_read_outside_jurisdiction_or_role_is_refused_and_not_decrypted(operator, make_staff):
    sample = record(operator).samples.get(modality="face")
    for user in (
        make_staff(Role.OPERATOR, region="18.01", username="op-lain"),
        make_staff(Role.GATE_OFFICER),
    ):
        with pytest.raises(EnrollmentError):
            read_sample(sample=sample, actor=user, purpose="x")
    assert not AuditEvent.objects.filter(action="read_biometric").exists()


def test_configured_key_is_used_and_a_wrong_key_cannot_read(operator):
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    with override_settings(EKTP_BIOMETRIC_KEY=key):
        token = crypto.encrypt(b"templat")
        assert Fernet(key.encode()).decrypt(token) == b"templat"
    with pytest.raises(crypto.BiometricKeyError):
        crypto.decrypt(token)
    rotated = f"{Fernet.generate_key().decode()},{key}"
    with override_settings(EKTP_BIOMETRIC_KEY=rotated):
        assert crypto.decrypt(token) == b"templat"


def test_templates_never_reach_the_log_or_repr(operator, caplog):
    resident = ResidentFactory()
    captures = simulated(str(resident.pk))
    with caplog.at_level(logging.DEBUG):
        enrollment = record(operator, resident, captures=captures)
        sample = enrollment.samples.get(modality="face")
        read_sample(sample=sample, actor=operator, purpose="cetak")
    face = captures["face"].template
    assert face.hex() not in caplog.text and repr(face) not in caplog.text
    assert repr(face) not in repr(captures["face"]) and repr(face) not in repr(sample)
