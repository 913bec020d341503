"""Region change decrees: new villages out of two demo villages by dusun, and every refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ektp.cards.models import ReprintRequest
from ektp.cards.selectors import print_queue
from ektp.core.models import AuditEvent, Role
from ektp.coverage.selectors import trend
from ektp.coverage.services import take_snapshots
from ektp.coverage.stats import coverage_of, forget_counts
from ektp.notifications.events import notify_address_changed
from ektp.notifications.models import Event, Message
from ektp.regions.changeset import ChangeSetInvalid, parse_change_set
from ektp.regions.models import AddressChange, Region, RegionChangeSet
from ektp.regions.services import apply_change_set, load_regions, plan_change_set
from ektp.residents.models import Family, FamilyCardPrint, Resident
from tests.cards.factories import OfficeFactory
from tests.residents.factories import FamilyFactory, ResidentFactory

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
A, B = "18.09.01.2001", "18.09.01.2002"  # Padang Ratu, Pampangan
A_NEW, B_NEW = "18.09.01.2901", "18.09.01.2902"
TODAY = timezone.localdate()

SPLIT = f"""\
decree:
  number: "100.1.1-0001/{TODAY.year}"
  date: {TODAY - dt.timedelta(days=10)}
  effective: {TODAY}
operations:
  - op: split
    from: {A}
    into:
      - code: {A_NEW}
        name: Padang Ratu Jaya
        dusun: [III, IV]
  - op: split
    from: {B}
    into:
      - code: {B_NEW}
        name: Pampangan Baru
        dusun: [IV]
"""


def _village(code: str) -> None:
    """Four families, one per dusun; in each a card holder and a resident not yet recorded."""
    for dusun in ("I", "II", "III", "IV"):
        family = FamilyFactory(address_region_id=code, street=f"DUSUN {dusun}")
        ResidentFactory(
            family=family,
            address_region_id=code,
            street=f"DUSUN {dusun}",
            phone="081234567890",
            ktp_status="CARD_ISSUED",
            recorded_on=dt.date(2020, 2, 3),
        )
        ResidentFactory(
            family=family,
            address_region_id=code,
            street=f"DUSUN {dusun}",
            phone="081234567891",
            family_relation="anak",
        )


@pytest.fixture
def villages(db):
    OfficeFactory()
    _village(A)
    _village(B)


@pytest.fixture
def kadis(make_staff):
    return make_staff(Role.SUPERVISOR)


def _state() -> tuple:
    return (
        Region.objects.count(),
        sorted(Resident.objects.values_list("nik", "address_region_id")),
        Family.objects.filter(address_region_id__in=[A_NEW, B_NEW]).count(),
        FamilyCardPrint.objects.count(),
        ReprintRequest.objects.count(),
        RegionChangeSet.objects.count(),
        AddressChange.objects.count(),
    )


def test_split_by_dusun_moves_residents_reissues_kk_queues_reprints_and_tells_them(
    villages, kadis, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    yesterday = TODAY - dt.timedelta(days=1)
    take_snapshots(day=yesterday, within="18.09.01")
    before = coverage_of(code="18.09.01", as_of=TODAY)

    preview = plan_change_set(text=SPLIT)
    assert (preview.residents_moving, preview.families_moving, preview.reprints) == (6, 3, 3)
    assert preview.blanks[0].reprints == 3 and preview.blanks[0].shortfall >= 3

    with django_capture_on_commit_callbacks(execute=True):
        result = apply_change_set(text=SPLIT, actor=kadis)
    assert result.applied

    child = Region.objects.get(code=A_NEW)
    assert (child.parent_id, child.valid_from, child.updated_at is not None) == (
        "18.09.01",
        TODAY,
        True,
    )
    assert Region.objects.get(code=A).valid_to is None  # the parent goes on, smaller
    moved = Resident.objects.filter(address_region_id=A_NEW)
    assert sorted(set(moved.values_list("street", flat=True))) == ["DUSUN III", "DUSUN IV"]
    assert moved.count() == 4 and set(moved.values_list("kecamatan_code", flat=True)) == {
        "18.09.01"
    }
    assert Resident.objects.filter(address_region_id=B_NEW).count() == 2
    assert Resident.objects.filter(address_region_id=A, street="DUSUN III").count() == 0

    kk = FamilyCardPrint.objects.filter(change_set=result.change_set)
    assert sorted(kk.values_list("address_region_id", flat=True)) == [A_NEW, A_NEW, B_NEW]

    reprints = ReprintRequest.objects.filter(change_set=result.change_set)
    assert reprints.count() == 3
    assert set(reprints.values_list("reason", flat=True)) == {"perubahan_data"}
    queue = print_queue(reprints.first().office)
    assert {i.category for i in queue.items if i.request} == {"region_change"}

    told = Message.objects.filter(event=Event.ADDRESS_CHANGED)
    assert told.values("resident").distinct().count() == 6
    assert "Padang Ratu Jaya" in told.filter(resident__address_region_id=A_NEW).first().body
    sent = told.count()
    notify_address_changed(change_set_id=result.change_set.pk)  # the task run twice
    assert told.count() == sent

    audit = AuditEvent.objects.filter(object_id=str(result.change_set.pk))
    per_op = audit.filter(object_type="region_change").order_by("seq")
    assert [e.detail["residents"] for e in per_op] == [4, 2]
    assert all(e.detail["decree"] == result.change_set.number for e in audit)

    forget_counts()
    after = coverage_of(code="18.09.01", as_of=TODAY)
    assert (after.wajib_ktp, after.recorded) == (before.wajib_ktp, before.recorded)
    take_snapshots(day=TODAY, within="18.09.01")
    days = trend(user=kadis, code=A_NEW, start=yesterday, end=TODAY)
    parent_past = trend(user=kadis, code=A, start=yesterday, end=yesterday)[0]
    assert [d.day for d in days] == [yesterday, TODAY]
    assert days[0].wajib_ktp == parent_past.wajib_ktp == 8  # the parent's past
    assert days[1].wajib_ktp == 4  # the child's own future
    # on yesterday's date the rows are yesterday's regions: the children's people are the parents'
    from ektp.coverage.stats import coverage_by_level

    old_rows = {
        r.code: r.wajib_ktp for r in coverage_by_level(level=4, as_of=yesterday, within="18.09.01")
    }
    assert old_rows[A] == 8 and A_NEW not in old_rows

    state = _state()
    again = apply_change_set(text=SPLIT, actor=kadis)
    assert not again.applied and again.change_set == result.change_set
    assert _state() == state
    assert plan_change_set(text=SPLIT).already_applied


def test_reapplying_keeps_loaded_regions_as_the_decree_made_them(villages, kadis):
    text = SPLIT.replace(
        "- op: split\n    from: 18.09.01.2002",
        "- op: rename\n    code: 18.09.01.2003\n    name: Cipadang Raya\n  - op: split\n    from: 18.09.01.2002",
    )
    apply_change_set(text=text, actor=kadis)
    load_regions()
    assert Region.objects.get(code="18.09.01.2003").name == "Cipadang Raya"


def _refused(text: str, kadis) -> ChangeSetInvalid:
    state = _state()
    with pytest.raises(ChangeSetInvalid) as exc:
        apply_change_set(text=text, actor=kadis)
    assert _state() == state  # nothing changed
    return exc.value


def test_unknown_code_refused_with_its_line(villages, kadis):
    text = SPLIT.replace(f"from: {B}", "from: 18.09.01.2999")
    err = _refused(text, kadis)
    assert [(p.line, "tidak dikenal" in p.message) for p in err.problems] == [(12, True)]


def test_overlapping_split_parts_refused(villages, kadis):
    text = SPLIT.replace(
        "        dusun: [III, IV]\n",
        "        dusun: [III, IV]\n      - code: 18.09.01.2903\n        name: Dua\n"
        "        dusun: [IV]\n",
    )
    err = _refused(text, kadis)
    assert any(p.line == 12 and "tumpang tindih" in p.message for p in err.problems)


def test_overlap_found_in_the_people_between_dusun_and_rw(villages, kadis):
    text = SPLIT.replace(
        "        dusun: [III, IV]\n",
        "        dusun: [III]\n      - code: 18.09.01.2903\n        name: Dua\n        rw: ['1']\n",
    )
    err = _refused(text, kadis)  # the factory's residents all live in RW 001
    assert any("penduduk masuk bagian" in p.message for p in err.problems)


def test_residents_left_without_village_refused(villages, kadis):
    retire = SPLIT.replace(
        f"- op: split\n    from: {B}",
        f"- op: retire\n    code: {B}\n  - op: split\n    from: 18.09.01.2003",
    )
    err = _refused(retire, kadis)
    assert any("Penduduk tanpa desa: 8" in p.message for p in err.problems)
    ended = SPLIT.replace(f"from: {A}\n", f"from: {A}\n    retire_parent: true\n")
    err = _refused(ended, kadis)
    assert any("4 penduduk dan 2 keluarga" in p.message for p in err.problems)


def test_conflict_with_an_applied_set_refused(villages, kadis):
    apply_change_set(text=SPLIT, actor=kadis)
    same_number = SPLIT.replace("name: Pampangan Baru", "name: Pampangan Indah")
    err = _refused(same_number, kadis)
    assert "sudah diterapkan" in err.problems[0].message
    later = SPLIT.replace("0001", "0002")
    err = _refused(later, kadis)
    assert any("Bertentangan dengan keputusan" in p.message for p in err.problems)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("decree: [\n", 2, "YAML"),
        ("operations: []\n", 1, "'decree'"),
        (SPLIT.replace(f"effective: {TODAY}", "effective: besok"), 4, "YYYY-MM-DD"),
        (
            SPLIT.replace(
                "op: split\n    from: 18.09.01.2002", "op: pecah\n    from: 18.09.01.2002"
            ),
            12,
            "tidak dikenal",
        ),
        (SPLIT.replace("dusun: [IV]", "rt: ['7']"), 15, "RT/RW"),
        (SPLIT.replace("code: 18.09.01.2902", "code: 18.9"), 15, "bukan kode"),
    ],
)
def test_malformed_change_set_refused_by_line(text, line, words):
    with pytest.raises(ChangeSetInvalid) as exc:
        parse_change_set(text)
    assert any(p.line == line and words in p.message for p in exc.value.problems), (
        exc.value.problems
    )


def test_every_problem_listed_at_once(villages, kadis):
    text = SPLIT.replace(f"from: {A}", "from: 18.09.01.2998").replace(
        f"from: {B}", "from: 18.09.01.2999"
    )
    err = _refused(text, kadis)
    assert [p.line for p in err.problems] == [6, 12]
    assert "baris 6" in err.message and "baris 12" in err.message


def test_decree_reprints_have_their_own_line_in_the_blank_forecast(villages, kadis):
    from ektp.cards.forecast import cover_report
    from ektp.offices.models import Office

    office = Office.objects.get(region_id="18.09")
    before, _ = cover_report(office, with_points=False)
    apply_change_set(text=SPLIT, actor=kadis)
    after, _ = cover_report(office, with_points=False)
    assert (before.decree_reprints, after.decree_reprints) == (0, 3)
    assert after.suggested_request - before.suggested_request == 3
    assert after.backlog == before.backlog  # not PRR: a line of its own


def test_decree_reprints_wait_behind_a_lost_card_in_the_print_queue(villages, kadis):
    from ektp.cards.services import create_reprint_request

    holder = Resident.objects.get(address_region_id=A, street="DUSUN I", ktp_status="CARD_ISSUED")
    create_reprint_request(resident=holder, reason="hilang", actor=kadis)
    result = apply_change_set(text=SPLIT, actor=kadis)
    queue = print_queue(ReprintRequest.objects.first().office)
    assert [i.category for i in queue.items] == ["lost"] + ["region_change"] * 3
    assert all(i.request.change_set == result.change_set for i in queue.items[1:])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_operators_applying_the_same_decree_at_once_apply_it_once(villages, kadis):
    from tests.threads import run_in_threads

    applied = []
    errors = run_in_threads(
        lambda: applied.append(apply_change_set(text=SPLIT, actor=kadis).applied), 2
    )
    assert errors == []
    assert sorted(applied) == [False, True]
    assert RegionChangeSet.objects.count() == 1
    assert ReprintRequest.objects.count() == 3
    assert AddressChange.objects.count() == 6


def test_api_shows_a_new_region_with_its_validity_and_change_time(villages, kadis, client):
    from ektp.core.services import issue_api_token

    apply_change_set(text=SPLIT, actor=kadis)
    token = issue_api_token(user=kadis, name="uji")
    body = client.get(f"/api/v1/regions/{A_NEW}", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert body["valid_from"] == TODAY.isoformat() and body["parent_code"] == "18.09.01"
    assert body["updated_at"]  # what a delta pull of reference data follows


MERGE_MOVE = f"""\
decree:
  number: "100.1.1-0009/{TODAY.year}"
  date: {TODAY}
  effective: {TODAY}
operations:
  - op: new
    code: 18.09.01.2903
    name: Sinar Harapan
  - op: rename
    code: 18.09.01.2003
    name: Cipadang Raya
  - op: merge
    from: [{A}, {B}]
    into: {A}
    name: Padang Pampangan
  - op: move
    code: 18.09.01.2004
    new_code: 18.09.02.2904
"""


def test_new_rename_merge_and_move_keep_history_and_follow_residents(villages, kadis):
    from ektp.coverage.models import Target

    ResidentFactory(address_region_id="18.09.01.2004", ktp_status="CARD_PRINTED", recorded_on=TODAY)
    ResidentFactory(address_region_id="18.09.01.2003")
    target = Target.objects.create(
        name="Pampangan 95", population="wajib_ktp", region_id=B, rate=95, due_date=TODAY
    )
    preview = plan_change_set(text=MERGE_MOVE)
    assert preview.targets == [("Pampangan 95", A, 8, 0)]
    result = apply_change_set(text=MERGE_MOVE, actor=kadis)

    assert Region.objects.get(code="18.09.01.2903").valid_from == TODAY
    assert Region.objects.get(code="18.09.01.2003").name == "Cipadang Raya"
    merged, old_b = Region.objects.get(code=A), Region.objects.get(code=B)
    assert merged.name == "Padang Pampangan" and merged.valid_to is None
    assert (old_b.valid_to, old_b.successor_id) == (TODAY - dt.timedelta(days=1), A)
    assert Resident.objects.filter(address_region_id=A).count() == 16
    moved_old = Region.objects.get(code="18.09.01.2004")
    assert moved_old.successor_id == "18.09.02.2904"
    mover = Resident.objects.get(address_region_id="18.09.02.2904")
    assert (mover.kecamatan_code, mover.kabkota_code) == ("18.09.02", "18.09")
    target.refresh_from_db()
    assert target.region_id == A  # the target follows the region its people went to
    renamed = AddressChange.objects.filter(change_set=result.change_set, to_code="18.09.01.2003")
    assert renamed.count() == 1 and renamed.get().from_code == "18.09.01.2003"
    # KK: B's four families (merged) and A's four (the merge renamed A): eight
    assert FamilyCardPrint.objects.filter(change_set=result.change_set).count() == 8
    # reprints: the holders of A and B (four each) and the mover; the renamed villager holds none
    assert ReprintRequest.objects.filter(change_set=result.change_set).count() == 9


def test_plan_and_apply_commands(villages, kadis, tmp_path):
    from io import StringIO

    from django.core.management import CommandError, call_command

    path = tmp_path / "keputusan.yaml"
    path.write_text(SPLIT, encoding="utf-8")
    out = StringIO()
    call_command("regions", "plan", str(path), stdout=out)
    assert "Penduduk pindah desa: 6 (3 keluarga)" in out.getvalue()
    assert "KTP-el dicetak ulang: 3" in out.getvalue()
    call_command("regions", "apply", str(path), "--user", kadis.username, stdout=out)
    assert "3 cetak ulang KTP-el diantrekan" in out.getvalue()
    call_command("regions", "apply", str(path), "--user", kadis.username, stdout=out)
    assert "tidak ada yang diubah" in out.getvalue()
    path.write_text(SPLIT.replace(A, "18.09.01.2999"), encoding="utf-8")
    with pytest.raises(CommandError, match="baris 6"):
        call_command("regions", "plan", str(path), stdout=out)
