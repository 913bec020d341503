import datetime as dt

import pytest

from ektp.residents.nik import (
    InvalidNumber,
    check_nik_matches,
    decode_nik,
    make_kk,
    make_nik,
    parse_kk,
    parse_nik,
)


def test_parse_a_man_s_nik():
    info = decode_nik("1809011705900001")
    assert (info.province_code, info.kabkota_code, info.kecamatan_code) == (
        "18",
        "18.09",
        "18.09.01",
    )
    assert (info.birth_day, info.birth_month, info.birth_yy, info.sex) == (17, 5, 90, "L")
    assert info.birth_date(dt.date(2026, 1, 1)) == dt.date(1990, 5, 17)
    assert info.warnings == ()


def test_women_have_forty_added_to_the_day():
    info = decode_nik(
        make_nik(kecamatan_code="18.09.01", birth_date=dt.date(2001, 2, 3), sex="P", serial=7)
    )
    assert info.sex == "P" and info.birth_day == 3


def test_century_is_resolved_against_today_and_the_recorded_birth_date():
    info = decode_nik("1809011705100001")
    assert info.birth_date(dt.date(2026, 1, 1)) == dt.date(2010, 5, 17)
    assert info.birth_date(dt.date(2009, 1, 1)) == dt.date(1910, 5, 17)
    check_nik_matches(info, birth_date=dt.date(1910, 5, 17), sex="L")
    with pytest.raises(InvalidNumber) as err:
        check_nik_matches(info, birth_date=dt.date(1911, 5, 17), sex="L")
    assert err.value.rule == "birth_date_mismatch"


@pytest.mark.parametrize(
    ("nik", "rule"),
    [
        ("180901170590000", "length"),
        ("18090117059000011", "length"),
        ("18090117059O0001", "digits"),
        ("18²³011705900001", "digits"),  # isdigit() says yes, int() says no
        ("18٠٩011705900001", "digits"),  # int() reads Arabic-Indic digits
        ("18０９011705900001", "digits"),  # and fullwidth ones
        ("0009011705900001", "province"),
        ("9909011705900001", "province"),
        ("1800011705900001", "kabkota"),
        ("1870011705900001", "kabkota"),
        ("1809001705900001", "kecamatan"),
        ("1809013205900001", "birth_date"),
        ("1809017205900001", "birth_date"),
        ("1809011713900001", "birth_date"),
        ("1809013002900001", "birth_date"),
        ("1809011705900000", "serial"),
    ],
)
def test_each_nik_rule_is_named(nik, rule):
    with pytest.raises(InvalidNumber) as err:
        decode_nik(nik)
    assert err.value.rule == rule
    assert err.value.message


@pytest.mark.parametrize(
    "typed",
    ["1809011705900001", " 1809 0117 0590 0001 ", "1809.0117.0590.0001", "1809-0117-0590-0001"],
)
def test_a_nik_may_be_typed_with_spaces_dots_or_dashes_between_digits(typed):
    assert parse_nik(typed) == "1809011705900001"


@pytest.mark.parametrize(
    ("typed", "rule", "message"),
    [
        ("", "length", "NIK harus 16 digit (yang diisi 0 karakter)."),
        ("12345", "length", "NIK harus 16 digit (yang diisi 5 karakter)."),
        ("1" * 500, "length", "NIK harus 16 digit (yang diisi 500 karakter)."),
        ("18090117059O0001", "digits", "NIK hanya boleh berisi angka 0–9."),
        ("18²³011705900001", "digits", "NIK hanya boleh berisi angka 0–9."),
        ("18٠٩011705900001", "digits", "NIK hanya boleh berisi angka 0–9."),
        ("18０９011705900001", "digits", "NIK hanya boleh berisi angka 0–9."),
        ("180901170590000\x00", "digits", "NIK hanya boleh berisi angka 0–9."),
    ],
)
def test_parse_nik_refuses_what_is_not_sixteen_ascii_digits(typed, rule, message):
    with pytest.raises(InvalidNumber) as err:
        parse_nik(typed)
    assert (err.value.rule, err.value.message) == (rule, message)


def test_a_looked_up_nik_is_not_decoded():
    """A NIK looked up (not registered) needs only its shape: an old region code still finds."""
    assert parse_nik("9909011705900000") == "9909011705900000"


def test_29_february_needs_a_leap_year_ending():
    decode_nik("1809012902000001")  # 2000 was a leap year
    with pytest.raises(InvalidNumber):
        decode_nik("1809012902010001")


def test_unknown_region_prefix_is_a_warning_not_a_refusal():
    info = decode_nik("1869991705900001")
    assert info.warnings and "18.69" in info.warnings[0]


def test_nik_sex_must_agree_with_recorded_sex():
    info = decode_nik("1809015705900001")
    with pytest.raises(InvalidNumber) as err:
        check_nik_matches(info, birth_date=dt.date(1990, 5, 17), sex="L")
    assert err.value.rule == "sex_mismatch"


def test_kk_number_round_trip_and_rules():
    kk = make_kk(kecamatan_code="18.09.02", issued_on=dt.date(2015, 3, 2), serial=12)
    info = parse_kk(kk, today=dt.date(2026, 1, 1))
    assert info.issued_on == dt.date(2015, 3, 2) and info.kecamatan_code == "18.09.02"
    with pytest.raises(InvalidNumber, match="masa depan"):
        parse_kk("1809021512250001", today=dt.date(2025, 12, 1))
    with pytest.raises(InvalidNumber) as err:
        parse_kk("1809023102150001")
    assert err.value.rule == "issue_date"
    with pytest.raises(InvalidNumber) as err:
        parse_kk("1809020203150000")
    assert err.value.rule == "serial"
