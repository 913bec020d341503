"""The iris gallery from the office side: searches and deletes audited, rebuilt from the database,
sealed on disk."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ektp.abis.errors import StorageCorrupt
from ektp.core.models import AuditEvent
from ektp.dedup import gallery, services
from ektp.dedup.engine import close_engine, get_engine
from ektp.dedup.errors import DedupError
from ektp.residents.models import KtpStatus
from tests.dedup.factories import genuine, person, sent, subject

pytestmark = pytest.mark.django_db


def _searches():
    return AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH, object_type="abis_iris")


def test_every_gallery_search_is_audited_with_who_and_which_subject(operator):
    first, second = person(), person()
    eyes = subject(40)
    services.run_penunggalan(enrollment_id=sent(operator, first, iris=eyes).pk)
    services.run_penunggalan(enrollment_id=sent(operator, second, iris=genuine(eyes)).pk)

    events = list(_searches().order_by("at"))
    assert [e.object_id for e in events] == [str(first.pk), str(second.pk)]
    assert {e.user.username for e in events} == {services.SYSTEM_USERNAME}
    assert events[0].detail == {
        "operation": "enroll",
        "matches": [],
        "gallery_size": 0,
        "inserted": True,
    }
    assert events[1].detail["matches"] == [str(first.pk)]
    assert events[1].detail["inserted"] is False
    assert all(e.at is not None for e in events)


def test_an_identify_only_search_is_audited_too(operator):
    resident = person()
    enrollment = sent(operator, resident, iris=subject(41))
    template = services.iris_template(enrollment=enrollment, actor=operator)
    found = gallery.search(
        subject_id=str(resident.pk), template=template, actor=operator, enroll=False, top_k=5
    )
    assert not found.match
    event = _searches().get()
    assert (event.user, event.object_id, event.channel) == (operator, str(resident.pk), "task")
    assert event.detail["operation"] == "identify"
    assert get_engine().count() == 0


def test_a_delete_from_the_gallery_is_audited_with_its_reason(operator):
    resident = person()
    services.run_penunggalan(enrollment_id=sent(operator, resident, iris=subject(42)).pk)
    assert gallery.delete(subject_id=str(resident.pk), actor=operator, reason="Meninggal dunia")
    assert get_engine().count() == 0
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE, object_type="abis_iris")
    assert (event.user, event.object_id) == (operator, str(resident.pk))
    assert event.detail == {"operation": "delete", "reason": "Meninggal dunia"}
    assert not gallery.delete(subject_id=str(resident.pk), actor=operator, reason="lagi")
    with pytest.raises(DedupError, match="Alasan"):
        gallery.delete(subject_id=str(resident.pk), actor=operator, reason="  ")


def test_abis_delete_command_removes_a_subject_and_refuses_an_unknown_one(operator):
    resident = person()
    services.run_penunggalan(enrollment_id=sent(operator, resident, iris=subject(43)).pk)
    call_command("abis", "delete", str(resident.pk), "--reason", "Data ganda digabung")
    assert get_engine().count() == 0
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE)
    assert (event.user, event.channel) == (None, "cli")
    with pytest.raises(CommandError, match="tidak ada di galeri"):
        call_command("abis", "delete", str(resident.pk), "--reason", "lagi")


def test_a_restored_database_rebuilds_its_gallery_and_finds_everyone_again(operator, settings):
    residents = [person() for _ in range(5)]
    eyes = [subject(50 + i) for i in range(5)]
    for resident, iris in zip(residents, eyes, strict=True):
        assert (
            services.run_penunggalan(enrollment_id=sent(operator, resident, iris=iris).pk) == "PRR"
        )
    waiting = person()
    sent(operator, waiting, iris=subject(60))  # SFE, not yet checked: not in the gallery
    close_engine()
    shutil.rmtree(settings.ABIS_DATA_DIR)  # only the database came back

    assert get_engine().count() == 0
    call_command("abis", "rebuild")

    engine = get_engine()
    assert engine.count() == 5
    for resident, iris in zip(residents, eyes, strict=True):
        found = engine.identify(genuine(iris).to_bytes())
        assert found.match and found.candidates[0].subject_id == str(resident.pk)
    assert not engine.identify(subject(60).to_bytes()).match
    event = AuditEvent.objects.get(object_type="abis_gallery")
    assert event.detail["residents"] == 5 and event.channel == "cli"

    close_engine()  # the rebuilt gallery is on disk, sealed
    assert get_engine().count() == 5
    for path in Path(settings.ABIS_DATA_DIR, "iris").iterdir():
        data = path.read_bytes()
        assert all(str(r.pk).encode() not in data for r in residents)


def test_rebuild_replaces_a_gallery_that_drifted_from_the_database(operator):
    kept = person()
    services.run_penunggalan(enrollment_id=sent(operator, kept, iris=subject(70)).pk)
    get_engine().insert("bukan-penduduk", subject(71).to_bytes())
    assert get_engine().count() == 2

    done = gallery.rebuild(actor=operator, channel="web")

    assert (done.residents, done.discarded_damaged) == (1, False)
    assert get_engine().count() == 1
    assert get_engine().identify(subject(70).to_bytes()).candidates[0].subject_id == str(kept.pk)


def test_rebuild_discards_an_unsealed_gallery_of_an_older_version(operator, settings):
    resident = person()
    services.run_penunggalan(enrollment_id=sent(operator, resident, iris=subject(72)).pk)
    close_engine()
    iris = Path(settings.ABIS_DATA_DIR, "iris")
    for path in iris.iterdir():
        if path.name != "LOCK":
            path.unlink()
    (iris / "journal-000000.log").write_bytes(b"AJ\x01" + bytes(40))

    with pytest.raises(StorageCorrupt, match="ektp abis rebuild"):
        get_engine()
    done = gallery.rebuild()

    assert done.discarded_damaged and done.residents == 1
    assert get_engine().count() == 1


def test_rebuild_skips_a_record_that_never_passed_penunggalan(operator):
    resident = person()
    enrollment = sent(operator, resident, iris=subject(73))
    resident.ktp_status = KtpStatus.DUPLICATE_RECORD
    resident.save(update_fields=["ktp_status"])
    assert enrollment.samples.exists()
    assert gallery.rebuild().residents == 0


def test_rebuild_refuses_while_another_process_holds_the_gallery(tmp_path, settings):
    from ektp.abis.service import LocalAbis
    from ektp.dedup.engine import abis_keys

    settings.ABIS_DATA_DIR = str(tmp_path / "dipegang")
    with (
        LocalAbis(tmp_path / "dipegang", keys=abis_keys()),
        pytest.raises(CommandError, match="Hentikan dulu"),
    ):
        call_command("abis", "rebuild")
