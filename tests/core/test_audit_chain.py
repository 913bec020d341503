"""The audit log is a hash chain: tampering is found, concurrent writers never fork it."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ektp.core.models import AuditChainHead, AuditEvent
from ektp.core.services import record_audit
from tests.threads import run_in_threads


def write_events(count: int, user=None) -> list[AuditEvent]:
    return [
        record_audit(user=user, action="view", object_type="resident", object_id=str(n))
        for n in range(count)
    ]


def verify() -> str:
    from io import StringIO

    out = StringIO()
    call_command("audit", "verify", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_each_event_carries_the_hash_of_the_one_before(operator):
    first, second, third = write_events(3, operator)
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert [first.seq, second.seq, third.seq] == [first.seq, first.seq + 1, first.seq + 2]
    assert len({first.hash, second.hash, third.hash}) == 3
    assert "utuh" in verify()


@pytest.mark.django_db
def test_verify_names_the_row_whose_detail_was_edited_in_sql():
    events = write_events(5)
    target = events[2]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET detail = %s WHERE seq = %s",
            ['{"diubah": true}', target.seq],
        )
    with pytest.raises(CommandError) as failure:
        verify()
    message = str(failure.value)
    assert f"nomor {target.seq}" in message
    assert str(target.id) in message
    assert "diubah" in message


@pytest.mark.django_db
def test_verify_finds_a_deleted_row_and_a_rewritten_chain():
    events = write_events(4)
    AuditEvent.objects.filter(pk=events[1].pk).delete()
    with pytest.raises(CommandError, match=f"nomor {events[1].seq}"):
        verify()


@pytest.mark.django_db
def test_verify_finds_the_last_rows_deleted():
    events = write_events(3)
    AuditEvent.objects.filter(pk=events[-1].pk).delete()
    with pytest.raises(CommandError, match=f"nomor {events[-1].seq}"):
        verify()


@pytest.mark.django_db
def test_verify_finds_a_row_relinked_to_hide_an_edit():
    events = write_events(3)
    # Edit a row and recompute its own hash: the next row no longer links to it.
    edited = AuditEvent.objects.get(pk=events[1].pk)
    edited.detail = {"disembunyikan": True}
    edited.hash = edited.chain_hash()
    AuditEvent.objects.filter(pk=edited.pk).update(detail=edited.detail, hash=edited.hash)
    with pytest.raises(CommandError, match=f"nomor {events[2].seq}"):
        verify()


@pytest.mark.django_db
def test_the_chain_starts_again_from_its_last_event_when_the_head_row_is_gone():
    first = write_events(1)[0]
    AuditChainHead.objects.all().delete()
    second = write_events(1)[0]
    assert second.prev_hash == first.hash and second.seq == first.seq + 1
    assert "utuh" in verify()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    errors = run_in_threads(lambda: write_events(10), count=8)
    assert errors == []
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(seqs[0], seqs[0] + 80))
    assert "80 catatan" in verify() or "utuh" in verify()
