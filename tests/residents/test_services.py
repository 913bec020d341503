import datetime as dt

import pytest

from ektp.core.models import AuditEvent, Role
from ektp.residents.models import Family, Resident
from ektp.residents.services import ResidentInvalid, create_resident, update_resident
from tests.residents.factories import resident_data

pytestmark = pytest.mark.django_db


def test_operator_registers_a_resident_with_family_and_audit(operator):
    data = resident_data(kk_number="1809010203150001")
    resident, warnings = create_resident(actor=operator, data=data)
    assert warnings == []
    assert resident.name == "BUDI SANTOSO" and resident.rt == "001"
    assert (resident.kabkota_code, resident.province_code) == ("18.09", "18")
    assert resident.family.kk_number == "1809010203150001"
    assert AuditEvent.objects.filter(
        action="create", object_id=resident.nik, user=operator
    ).exists()


def _refused(operator, field, **overrides):
    before = (Resident.objects.count(), Family.objects.count())
    with pytest.raises(ResidentInvalid) as err:
        create_resident(actor=operator, data=resident_data(**overrides))
    assert field in err.value.errors, err.value.errors
    assert (Resident.objects.count(), Family.objects.count()) == before
    return err.value.errors[field]


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("nik", {"nik": "123"}),
        ("nik", {"nik": "18090117059000ab"}),
        ("nik", {"nik": "0009011705900001"}),
        ("nik", {"nik": "1809011705900000"}),
        ("nik", {"nik": "1809011806900001"}),  # date differs from the recorded birth date
        ("nik", {"nik": "1809015705900001"}),  # a woman's NIK for a man
        ("birth_date", {"birth_date": "2031-02-30"}),
        # Tomorrow as of the moment the test runs, not when it was collected (midnight).
        ("birth_date", {"birth_date": lambda: dt.date.today() + dt.timedelta(days=1)}),
        ("birth_date", {"birth_date": None}),
        ("address_region", {"address_region": "99.99.99.9999"}),
        ("address_region", {"address_region": "18.09.01"}),
        ("address_region", {"address_region": "31.71.01.1001"}),  # outside the office's district
        ("name", {"name": ""}),
        ("name", {"name": "X" * 101}),
        ("name", {"name": "Budi <script>"}),
        ("mother_name", {"mother_name": "  "}),
        ("rt", {"rt": "0"}),
        ("rw", {"rw": "12a"}),
        ("sex", {"sex": "X"}),
        ("religion", {"religion": "lainnya"}),
        ("marital_status", {"marital_status": "nikah"}),
        ("phone", {"phone": "12345"}),
        ("email", {"email": "bukan-email"}),
        ("kk_number", {"kk_number": "1809013102150001"}),
        ("street", {"street": "j" * 201}),
    ],
)
def test_each_rule_is_refused_with_a_message_and_nothing_changes(operator, field, overrides):
    overrides = {k: v() if callable(v) else v for k, v in overrides.items()}
    messages = _refused(operator, field, **overrides)
    assert all(isinstance(m, str) and m for m in messages)


def test_duplicate_nik_is_refused(operator):
    data = resident_data()
    create_resident(actor=operator, data=data)
    assert "sudah terdaftar" in _refused(operator, "nik", nik=data["nik"])[0]


def test_old_region_prefix_in_nik_is_only_a_warning(operator):
    data = resident_data()
    data["nik"] = "1869" + data["nik"][4:]
    resident, warnings = create_resident(actor=operator, data=data)
    assert resident.pk and warnings and "18.69" in warnings[0]


def test_update_keeps_the_nik_and_audits_changed_fields(operator):
    resident, _ = create_resident(actor=operator, data=resident_data())
    data = resident_data(nik="ignored", name="Budi Santoso Putra", address_region="18.09.02.2001")
    updated, _ = update_resident(actor=operator, resident=resident, data=data)
    assert updated.nik == resident.nik and updated.name == "BUDI SANTOSO PUTRA"
    assert updated.kecamatan_code == "18.09.02"
    event = AuditEvent.objects.get(action="update", object_id=resident.nik)
    assert set(event.detail["fields"]) >= {"name", "address_region"}


def test_update_refuses_a_birth_date_that_contradicts_the_nik(operator):
    resident, _ = create_resident(actor=operator, data=resident_data())
    with pytest.raises(ResidentInvalid) as err:
        update_resident(
            actor=operator, resident=resident, data=resident_data(birth_date=dt.date(1991, 5, 17))
        )
    assert "birth_date" in err.value.errors
    resident.refresh_from_db()
    assert resident.birth_date == dt.date(1990, 5, 17)


def test_staff_of_another_district_cannot_edit(operator, make_staff):
    resident, _ = create_resident(actor=operator, data=resident_data())
    other = make_staff(Role.OPERATOR, region="18.71", username="op-bandar-lampung")
    with pytest.raises(ResidentInvalid):
        update_resident(actor=other, resident=resident, data=resident_data(name="Lain"))
