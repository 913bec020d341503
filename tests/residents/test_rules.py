"""Every rule in the table of services.RULES refuses bad input, with its message on its field."""

import datetime as dt

import pytest

from ektp.regions.models import Region
from ektp.residents.services import RULES, ResidentInvalid, create_resident, validate_resident
from tests.residents.factories import resident_data

pytestmark = pytest.mark.django_db

# The one step of the table that only shapes values (has_itap, occupation, street).
NEVER_REFUSES = {"_free_text_kept"}

WRONG_CHOICE = "Pilih salah satu pilihan yang tersedia."

# (rule, bad input over valid data, the field the message is on, the message); "existing"
# checks the input as an update of a registered resident rather than a new registration.
BAD_INPUT = [
    ("_lengths_within_limits", {"street": "j" * 201}, "street", "Paling banyak 200 karakter."),
    ("_lengths_within_limits", {"name": "X" * 101}, "name", "Paling banyak 100 karakter."),
    ("_names_are_letters", {"name": "   "}, "name", "Wajib diisi."),
    (
        "_names_are_letters",
        {"mother_name": "Siti <b>"},
        "mother_name",
        "Hanya huruf, spasi, titik, koma, apostrof dan tanda hubung.",
    ),
    ("_birth_place_given", {"birth_place": ""}, "birth_place", "Wajib diisi."),
    (
        "_birth_date_is_a_past_date",
        {"birth_date": "17-05-1990"},
        "birth_date",
        "Tanggal lahir bukan tanggal yang sah (format TTTT-BB-HH).",
    ),
    ("_birth_date_is_a_past_date", {"birth_date": None}, "birth_date", "Wajib diisi."),
    (
        "_birth_date_is_a_past_date",
        {"birth_date": "2999-05-17"},
        "birth_date",
        "Tanggal lahir tidak boleh di masa depan.",
    ),
    (
        "_birth_date_is_a_past_date",
        {"birth_date": "1899-05-17"},
        "birth_date",
        "Tanggal lahir sebelum tahun 1900 tidak diterima.",
    ),
    ("_choices_are_known", {"sex": ""}, "sex", WRONG_CHOICE),
    ("_choices_are_known", {"religion": "lainnya"}, "religion", WRONG_CHOICE),
    ("_choices_are_known", {"life_status": "hilang"}, "life_status", WRONG_CHOICE),
    ("_rt_rw_are_numbers", {"rt": "0"}, "rt", "RT berupa angka 1–3 digit, bukan 0."),
    ("_rt_rw_are_numbers", {"rw": "12a"}, "rw", "RW berupa angka 1–3 digit, bukan 0."),
    (
        "_address_is_a_current_village_in_reach",
        {"address_region": "99.99.99.9999"},
        "address_region",
        "Kode desa/kelurahan '99.99.99.9999' tidak dikenal.",
    ),
    (
        "_address_is_a_current_village_in_reach",
        {"address_region": "18.09.01"},
        "address_region",
        "Alamat harus berupa desa/kelurahan (kode 10 digit, mis. 18.09.01.2001).",
    ),
    (
        "_address_is_a_current_village_in_reach",
        {"address_region": "18.09.01.2999"},  # made below, no longer in force
        "address_region",
        "Kode desa/kelurahan ini sudah tidak berlaku.",
    ),
    (
        "_address_is_a_current_village_in_reach",
        {"address_region": "31.71.01.1001"},
        "address_region",
        "Desa/kelurahan ini berada di luar wilayah kerja Anda.",
    ),
    (
        "_phone_is_a_mobile_number",
        {"phone": "12345"},
        "phone",
        "Nomor HP tidak sah (contoh: 081234567890 atau +6281234567890).",
    ),
    ("_email_is_an_address", {"email": "bukan-email"}, "email", "Alamat email tidak sah."),
    (
        "_nik_is_new_and_matches",
        {"nik": "123"},
        "nik",
        "NIK harus 16 digit (yang diisi 3 karakter).",
    ),
    (
        "_nik_is_new_and_matches",
        {"nik": "1809015705900001"},
        "nik",
        "NIK menunjukkan jenis kelamin perempuan, berbeda dengan yang dicatat.",
    ),
    (
        "_nik_is_new_and_matches",
        {"birth_date": dt.date(1991, 5, 17), "existing": True},
        "birth_date",
        "Tanggal lahir dalam NIK (17-05-90) tidak sama dengan tanggal lahir yang dicatat "
        "(17-05-1991).",
    ),
    (
        "_nik_is_new_and_matches",
        {"sex": "P", "existing": True},
        "sex",
        "NIK menunjukkan jenis kelamin laki-laki, berbeda dengan yang dicatat.",
    ),
    (
        "_kk_number_is_valid",
        {"kk_number": "1809013102150001"},
        "kk_number",
        "No. KK: tanggal terbit 31-02-15 bukan tanggal yang ada.",
    ),
]


def test_every_rule_in_the_table_has_a_bad_input_case():
    refusing = {rule.__name__ for rule in RULES} - NEVER_REFUSES
    assert {case[0] for case in BAD_INPUT} == refusing
    assert {rule.__name__ for rule in RULES} >= NEVER_REFUSES


@pytest.mark.parametrize(
    ("rule", "overrides", "field", "message"),
    BAD_INPUT,
    ids=[f"{case[0]}-{case[2]}-{i}" for i, case in enumerate(BAD_INPUT)],
)
def test_the_rule_refuses_bad_input_with_its_message_on_its_field(
    operator, rule, overrides, field, message
):
    Region.objects.create(
        code="18.09.01.2999",
        level=Region.Level.DESA,
        parent_id="18.09.01",
        name="DESA YANG DIMEKARKAN",
        valid_to=dt.date(2020, 1, 1),
    )
    overrides = dict(overrides)
    existing = None
    if overrides.pop("existing", False):
        existing, _ = create_resident(actor=operator, data=resident_data())
    data = resident_data()  # a valid NIK whatever the bad input, so only the rule refuses
    data.update(overrides)
    with pytest.raises(ResidentInvalid) as err:
        validate_resident(data, actor=operator, existing=existing)
    assert err.value.errors == {field: [message]}


def test_the_duplicate_nik_rule_names_the_registered_nik(operator):
    resident, _ = create_resident(actor=operator, data=resident_data())
    with pytest.raises(ResidentInvalid) as err:
        validate_resident(resident_data(nik=resident.nik), actor=operator)
    assert err.value.errors == {"nik": [f"NIK {resident.nik} sudah terdaftar."]}


def test_valid_data_passes_every_rule_with_its_values_shaped(operator):
    checked = validate_resident(resident_data(rt="7", phone="0812-3456 7890"), actor=operator)
    assert checked.values["rt"] == "007" and checked.values["phone"] == "081234567890"
    assert checked.values["name"] == "BUDI SANTOSO" and checked.values["has_itap"] is False
    assert list(checked.values)[:2] == ["name", "mother_name"]
