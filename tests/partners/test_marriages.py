"""KUA marriages: staged with a preview, applied once, the marriage kept as evidence; a
resident under 17 who marries becomes wajib KTP and is invited to record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models.signals import post_save
from django.utils import timezone

from ektp.appointments.models import Invitation, InvitationBatch
from ektp.core.models import AuditEvent, Role
from ektp.coverage.stats import coverage_of
from ektp.partners import selectors, services
from ektp.partners.files import FileRejected
from ektp.partners.models import MaritalChange, Marriage, Match, PartnerImport
from ektp.residents.models import MaritalStatus, Resident
from tests.appointments.factories import open_on, point_with_kits
from tests.partners.factories import (
    OTHER_DISTRICT_VILLAGE,
    csv_file,
    marriage_row,
    xlsx_file,
)
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db
KUA = "kua"
TODAY = timezone.localdate()
MARRIED_ON = (TODAY - dt.timedelta(days=10)).isoformat()


@pytest.fixture
def head(make_staff):
    return make_staff(Role.SUPERVISOR)


def _years_old(years: int, **kwargs) -> Resident:
    born = TODAY.replace(year=TODAY.year - years) - dt.timedelta(days=40)
    return ResidentFactory(birth_date=born, **kwargs)


def _stage(head, content: bytes, name="kua.csv") -> PartnerImport:
    return services.stage_import(
        actor=head, kind=KUA, kabkota_code="18.09", file_name=name, content=content
    )


def test_spouses_matched_by_nik_get_married_with_the_marriage_as_evidence(head):
    husband, wife = _years_old(30), _years_old(25, sex="P", name="SITI AMINAH")
    staged = _stage(head, csv_file(KUA, [marriage_row(husband, wife, married_on=MARRIED_ON)]))

    preview = selectors.preview(staged)
    assert preview.counts[Match.NIK] == 2
    assert {r.resident_id for r in preview.matched} == {husband.pk, wife.pk}
    assert preview.matched[0].changes["status_perkawinan"] == ["belum_kawin", "kawin"]
    husband.refresh_from_db()
    assert husband.marital_status == MaritalStatus.SINGLE  # nothing changes before apply

    services.apply_import(actor=head, partner_import=staged)

    for person in (husband, wife):
        person.refresh_from_db()
        assert person.marital_status == MaritalStatus.MARRIED
    marriage = Marriage.objects.get()
    assert (marriage.husband, marriage.wife) == (husband, wife)
    assert MaritalChange.objects.filter(marriage=marriage).count() == 2
    event = AuditEvent.objects.get(object_type="partner_import")
    assert event.detail["sha256"] == staged.sha256 and len(staged.sha256) == 64


def test_spouse_without_nik_matched_by_demographic_dedup_with_its_score(head):
    husband = _years_old(30, name="AHMAD FAUZI", birth_place="GEDONG TATAAN")
    wife = _years_old(26, sex="P", name="RINA MARLINA", birth_place="PESAWARAN")
    _years_old(26, sex="P", name="DEWI LESTARI", birth_place="PESAWARAN")  # same day, unlike
    stranger = {
        "nik": "",
        "nama": "Rina  Marlina",
        "tanggal_lahir": wife.birth_date.strftime("%d-%m-%Y"),
        "tempat_lahir": "Pesawaran",
    }
    staged = _stage(head, csv_file(KUA, [marriage_row(husband, stranger, married_on=MARRIED_ON)]))

    rows = {r.role: r for r in staged.rows.all()}
    assert rows["istri"].match == Match.DEDUP
    assert rows["istri"].resident_id == wife.pk
    assert 0.99 <= rows["istri"].score <= 1
    assert selectors.preview(staged).counts[Match.DEDUP] == 1


def test_spouse_unknown_to_the_registry_listed_with_the_reason(head):
    husband = _years_old(30)
    stranger = {"nik": "", "nama": "ORANG LUAR", "tanggal_lahir": "1990-03-03"}
    staged = _stage(head, csv_file(KUA, [marriage_row(husband, stranger, married_on=MARRIED_ON)]))

    wife_row = staged.rows.get(role="istri")
    assert wife_row.match == Match.NONE
    assert "Tanpa NIK" in wife_row.problem and "tanggal lahir yang sama" in wife_row.problem
    services.apply_import(actor=head, partner_import=staged)
    husband.refresh_from_db()
    assert husband.marital_status == MaritalStatus.MARRIED
    assert Marriage.objects.get().wife is None


def test_reimporting_the_same_file_changes_nothing(head):
    husband, wife = _years_old(30), _years_old(25, sex="P")
    content = csv_file(KUA, [marriage_row(husband, wife, married_on=MARRIED_ON)])
    services.apply_import(actor=head, partner_import=_stage(head, content))
    again = _stage(head, content)
    assert all(not r.changes for r in again.rows.all())  # the preview already says so

    with pytest.raises(services.AlreadyApplied):
        services.apply_import(actor=head, partner_import=again)

    assert Marriage.objects.count() == 1 and MaritalChange.objects.count() == 2
    assert AuditEvent.objects.filter(object_type="partner_import").count() == 1
    again.refresh_from_db()
    assert again.status == PartnerImport.Status.STAGED


def test_same_marriage_in_another_file_is_not_recorded_twice(head):
    husband, wife = _years_old(30), _years_old(25, sex="P")
    row = marriage_row(husband, wife, married_on=MARRIED_ON)
    services.apply_import(actor=head, partner_import=_stage(head, csv_file(KUA, [row])))
    other = csv_file(KUA, [row, {**row, "no_akta": "0002/2026"}])
    result = services.apply_import(actor=head, partner_import=_stage(head, other)).result
    assert result["marriages"] == 1 and result["status_changed"] == 0
    assert MaritalChange.objects.count() == 2


def test_rows_for_another_jurisdiction_are_refused_with_their_line(head):
    husband, wife = _years_old(30), _years_old(25, sex="P")
    row = marriage_row(husband, wife, married_on=MARRIED_ON, kode_desa=OTHER_DISTRICT_VILLAGE)
    staged = _stage(head, csv_file(KUA, [row]))
    problem = staged.rows.get(role="suami")
    assert problem.match == Match.INVALID and problem.line == 2
    assert "di luar wilayah kerja" in problem.problem
    services.apply_import(actor=head, partner_import=staged)
    husband.refresh_from_db()
    assert husband.marital_status == MaritalStatus.SINGLE


def test_resident_of_another_district_matched_by_nik_is_left_alone(head):
    husband = _years_old(30, address_region_id=OTHER_DISTRICT_VILLAGE)
    wife = _years_old(25, sex="P")
    staged = _stage(head, csv_file(KUA, [marriage_row(husband, wife, married_on=MARRIED_ON)]))
    assert staged.rows.get(role="suami").match == Match.ELSEWHERE
    services.apply_import(actor=head, partner_import=staged)
    husband.refresh_from_db()
    assert husband.marital_status == MaritalStatus.SINGLE


def test_staff_of_another_district_may_not_import_here(make_staff):
    other_head = make_staff(Role.SUPERVISOR, region="18.10", username="kadis-lain")
    with pytest.raises(services.PartnerError, match="di luar wilayah kerja"):
        _stage(other_head, csv_file(KUA, []))
    with pytest.raises(services.PartnerError, match="Peran"):
        _stage(make_staff(Role.OPERATOR), csv_file(KUA, []))


def test_married_under_17_becomes_wajib_ktp_is_invited_and_counted_from_that_day(head):
    tomorrow = TODAY + dt.timedelta(days=1)
    point = point_with_kits(throughput=4)
    open_on(point, tomorrow)
    husband = _years_old(20)
    bride = _years_old(16, sex="P", name="NUR HASANAH")
    before = coverage_of(code="18.09", as_of=TODAY).wajib_ktp
    assert not bride.is_wajib_ktp(TODAY)

    staged = _stage(head, csv_file(KUA, [marriage_row(husband, bride, married_on=MARRIED_ON)]))
    bride_row = staged.rows.get(role="istri")
    assert bride_row.changes["menjadi_wajib_ktp"] == MARRIED_ON
    assert bride_row.changes["diundang_rekam"] is True
    result = services.apply_import(actor=head, partner_import=staged).result

    bride.refresh_from_db()
    assert bride.is_wajib_ktp(TODAY)
    assert MaritalChange.objects.get(resident=bride).became_wajib_ktp
    invitation = Invitation.objects.get(resident=bride)
    assert invitation.batch.kind == InvitationBatch.Kind.MARRIED
    assert invitation.booking.window.day == tomorrow
    assert result["invited"] == 1 and result["became_wajib_ktp"] == 1
    # the husband (20) was already wajib KTP; the bride is counted from today on
    assert coverage_of(code="18.09", as_of=TODAY).wajib_ktp == before + 1


def test_full_calendar_does_not_stop_the_import(head):
    point_with_kits(kits=0)  # no recording kit: no window has room
    bride = _years_old(16, sex="P")
    staged = _stage(
        head, csv_file(KUA, [marriage_row(_years_old(20), bride, married_on=MARRIED_ON)])
    )
    result = services.apply_import(actor=head, partner_import=staged).result
    bride.refresh_from_db()
    assert bride.marital_status == MaritalStatus.MARRIED
    assert result["invited"] == 0 and result["not_invited"] == 1
    assert result["invitation_note"]


def test_import_failing_halfway_leaves_nothing(head):
    first = (_years_old(30), _years_old(25, sex="P"))
    second = (_years_old(31), _years_old(26, sex="P"))
    content = csv_file(
        KUA,
        [
            marriage_row(*first, married_on=MARRIED_ON),
            marriage_row(*second, certificate="0002/2026", married_on=MARRIED_ON),
        ],
    )
    staged = _stage(head, content)
    seen = []

    def fail_on_the_third(sender, instance, created, **kwargs):
        seen.append(instance.pk)
        if len(seen) == 3:
            raise RuntimeError("disk penuh")

    post_save.connect(fail_on_the_third, sender=MaritalChange, dispatch_uid="test-fail")
    try:
        with pytest.raises(RuntimeError):
            services.apply_import(actor=head, partner_import=staged)
    finally:
        post_save.disconnect(sender=MaritalChange, dispatch_uid="test-fail")

    assert len(seen) == 3
    assert not Marriage.objects.exists() and not MaritalChange.objects.exists()
    assert not Resident.objects.filter(marital_status=MaritalStatus.MARRIED).exists()
    staged.refresh_from_db()
    assert staged.status == PartnerImport.Status.STAGED
    assert not AuditEvent.objects.filter(object_type="partner_import").exists()


def test_xlsx_file_is_read_like_csv(head):
    husband, wife = _years_old(30), _years_old(25, sex="P")
    row = marriage_row(husband, wife)
    row["tanggal_nikah"] = dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time())
    row["tanggal_lahir_suami"] = husband.birth_date
    staged = _stage(head, xlsx_file(KUA, [row]), name="kua.xlsx")
    assert selectors.preview(staged).counts[Match.NIK] == 2


# ---------------------------------------------------------------- bad input, each rule


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "kosong"),
        (b"\x00\x01\x02binary", "bukan CSV atau XLSX"),
        ("nama;tanggal\n".encode("utf-16"), "bukan CSV atau XLSX"),
        ("no_akta;kua\nJOSÉ;KUA\n".encode("latin-1"), "UTF-8"),
        (b"PK\x03\x04not really a workbook", "bukan buku kerja XLSX"),
        (b"no_akta;kua\n1;KUA\n", "Kolom wajib tidak ada: tanggal_nikah"),
    ],
)
def test_unreadable_file_refused_as_a_whole(head, content, message):
    with pytest.raises(FileRejected, match=message):
        _stage(head, content)
    assert not PartnerImport.objects.exists()


BAD_LINES = [
    ({"nik_suami": "12345"}, "nik_suami: NIK harus 16 digit"),
    ({"nik_istri": "18090１0101900001"}, "nik_istri: NIK hanya boleh berisi angka"),
    ({"tanggal_nikah": "31-02-2026"}, "tanggal_nikah: '31-02-2026' bukan tanggal"),
    ({"tanggal_nikah": "2999-01-01"}, "di masa depan"),
    ({"tanggal_lahir_istri": "1850-01-01"}, "sebelum tahun 1900"),
    ({"tanggal_lahir_suami": "2026-12-01"}, "tidak sebelum tanggal_nikah"),
    ({"no_akta": ""}, "no_akta kosong"),
    ({"kua": ""}, "kua kosong"),
    ({"nama_istri": "  "}, "nama_istri kosong"),
    ({"kode_desa": ""}, "kode_desa kosong"),
    ({"kode_desa": "18.09.01.9999"}, "tidak dikenal"),
    ({"kode_desa": "18.10.01.1001"}, "di luar wilayah kerja"),
]


def test_each_bad_line_is_listed_with_its_problem_and_line(head):
    """One file with a good line, then one line breaking each rule (lines 3, 4, …)."""
    husband, wife = _years_old(30), _years_old(25, sex="P")
    lines = [marriage_row(husband, wife, married_on=MARRIED_ON)]
    for i, (change, _message) in enumerate(BAD_LINES):
        row = marriage_row(husband, wife, certificate=f"{i + 10}/2026", married_on=MARRIED_ON)
        lines.append({**row, **change})
    staged = _stage(head, csv_file(KUA, lines))

    problems = {}
    for row in selectors.preview(staged).problems:
        problems.setdefault(row.line, row.problem)
    assert sorted(problems) == list(range(3, 3 + len(BAD_LINES)))
    for line, (_change, message) in enumerate(BAD_LINES, start=3):
        assert message in problems[line], (line, problems[line])
    assert staged.rows.get(line=2, role="suami").match == Match.NIK


def test_duplicate_line_is_listed_with_the_line_it_repeats(head):
    husband, wife = _years_old(30), _years_old(25, sex="P")
    row = marriage_row(husband, wife, married_on=MARRIED_ON)
    staged = _stage(head, csv_file(KUA, [row, row]))
    problem = staged.rows.filter(match=Match.INVALID).first()
    assert problem.line == 3 and "sama dengan baris 2" in problem.problem
    services.apply_import(actor=head, partner_import=staged)
    assert MaritalChange.objects.count() == 2
