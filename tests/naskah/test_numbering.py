"""Letter numbers: the office's format, one number per document, no gap and no duplicate."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from ektp.naskah import services
from ektp.naskah.errors import NaskahError, NaskahForbidden
from ektp.naskah.models import Letter, LetterSequence
from ektp.naskah.selectors import letterhead_of
from tests.threads import run_in_threads

RECEIPT = Letter.Kind.HANDOVER_RECEIPT
DEC = dt.date(2026, 12, 7)


def number(office, actor, subject=None, on=DEC, kind=RECEIPT):
    return services.number_letter(
        office=office,
        kind=kind,
        subject_id=subject or uuid.uuid4(),
        perihal="Uji",
        actor=actor,
        on=on,
    )


def test_default_format_gives_the_kemendagri_shape(office):
    head = letterhead_of(office)
    assert (
        services.format_letter_number(head, sequence=1, on=DEC) == "470/0001/Disdukcapil/XII/2026"
    )


def test_each_office_writes_its_own_format(letterhead):
    letterhead.number_format = "{kode}/{nomor}/DKPS-PSW/{tahun}"
    letterhead.classification = "400.12"
    assert (
        services.format_letter_number(letterhead, sequence=37, on=DEC)
        == "400.12/0037/DKPS-PSW/2026"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "wajib diisi"),
        ("470/Disdukcapil/{tahun}", "tepat satu kali"),
        ("{nomor}/{nomor}", "tepat satu kali"),
        ("{nomor}/{rahasia}", "{rahasia} tidak dikenal"),
        ("{nomor:>10}", "{nomor} tidak dikenal"),
        ("{nomor!r}", "{nomor} tidak dikenal"),
        ("{nomor.__class__}", "tidak dikenal"),
        ("{nomor}/{", "kurung kurawal"),
        ("x" * 101 + "{nomor}", "paling banyak 100"),
    ],
)
def test_a_bad_number_format_is_refused(text, message):
    with pytest.raises(NaskahError, match=message.replace("{", r"\{").replace("}", r"\}")):
        services.check_number_format(text)


def test_numbers_follow_each_other_and_a_document_keeps_its_number(office, supervisor):
    subject = uuid.uuid4()
    first = number(office, supervisor, subject)
    again = number(office, supervisor, subject)
    second = number(office, supervisor)
    assert first.pk == again.pk
    assert [first.number, second.number] == [
        "470/0001/Disdukcapil/XII/2026",
        "470/0002/Disdukcapil/XII/2026",
    ]
    assert LetterSequence.objects.get(office=office, year=2026).last == 2


def test_the_sequence_starts_again_each_year(office, supervisor):
    number(office, supervisor, on=DEC)
    assert (
        number(office, supervisor, on=dt.date(2027, 1, 2)).number == "470/0001/Disdukcapil/I/2027"
    )


def test_staff_of_another_district_cannot_take_a_number(office, make_staff):
    from ektp.core.models import Role

    stranger = make_staff(Role.SUPERVISOR, region="18.01", username="kadis-lamsel")
    with pytest.raises(NaskahForbidden):
        number(office, stranger)
    assert not Letter.objects.exists()


def test_an_unknown_kind_of_letter_is_refused(office, supervisor):
    with pytest.raises(NaskahError, match="tidak dikenal"):
        number(office, supervisor, kind="undangan")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_clerks_numbering_at_once_get_consecutive_numbers_without_gap_or_duplicate(
    office, supervisor
):
    count = 8
    errors = run_in_threads(lambda: number(office, supervisor), count)
    assert errors == []
    sequences = sorted(Letter.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, count + 1))
    assert Letter.objects.values("number").distinct().count() == count
    assert LetterSequence.objects.get(office=office).last == count


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_document_printed_at_once_by_several_clerks_gets_one_number(office, supervisor):
    subject = uuid.uuid4()
    errors = run_in_threads(lambda: number(office, supervisor, subject), 6)
    assert errors == []
    assert Letter.objects.get().sequence == 1
    assert LetterSequence.objects.get(office=office).last == 1
