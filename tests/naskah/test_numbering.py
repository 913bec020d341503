"""Letter numbers are taken when a letter is issued (submit, hand-over) or by an explicit POST,
never by opening a page: a crawler, a link prefetch or a refresh burns no number."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ektp.naskah.models import Letter, LetterSequence
from tests.naskah.pdftext import text_of

pytestmark = pytest.mark.django_db

KAB = {"kab": "18.09"}


def _sequence_last(office) -> int:
    row = LetterSequence.objects.filter(office=office).first()
    return row.last if row else 0


def test_submitting_a_blank_request_numbers_its_letter(submitted_request):
    letter = Letter.objects.get(kind=Letter.Kind.BLANK_REQUEST)
    assert letter.subject_id == str(submitted_request.pk)
    assert letter.sequence == 1


def test_handing_a_card_over_numbers_its_receipt(handed_card):
    letter = Letter.objects.get(kind=Letter.Kind.HANDOVER_RECEIPT)
    assert letter.subject_id == str(handed_card.pk)


def test_opening_an_unnumbered_request_letter_takes_no_number(
    head_client, submitted_request, office
):
    Letter.objects.all().delete()  # as a request submitted before letters were numbered
    before = _sequence_last(office)
    url = reverse("naskah:request_letter", args=[submitted_request.pk])
    for _ in range(3):  # a crawler, a prefetch, a refresh
        response = head_client.get(url, KAB)
        assert response.status_code == 409
        assert "Beri nomor" in response.content.decode()
    assert head_client.head(f"{url}?kab=18.09").status_code == 409
    assert not Letter.objects.exists()
    assert _sequence_last(office) == before
    numbered = head_client.post(f"{url}?kab=18.09")
    assert numbered.status_code == 302
    letter = Letter.objects.get()
    assert _sequence_last(office) == before + 1
    again = head_client.post(f"{url}?kab=18.09")  # a second click keeps the same number
    assert again.status_code == 200 and Letter.objects.count() == 1
    pdf = head_client.get(numbered["Location"])
    assert pdf["Content-Type"] == "application/pdf"
    assert letter.number in text_of(pdf.content)


def test_opening_an_unnumbered_receipt_takes_no_number(operator_client, handed_card, office):
    Letter.objects.all().delete()
    before = _sequence_last(office)
    url = reverse("naskah:receipt", args=[handed_card.pk])
    assert operator_client.get(url, KAB).status_code == 409
    assert operator_client.get(url, KAB).status_code == 409
    assert not Letter.objects.exists() and _sequence_last(office) == before
    assert operator_client.post(f"{url}?kab=18.09").status_code == 302
    assert Letter.objects.filter(kind=Letter.Kind.HANDOVER_RECEIPT).count() == 1


def test_a_draft_request_cannot_be_numbered_by_post(head_client, office, supervisor):
    from ektp.cards import services as cards
    from tests.cards.factories import PrrResidentFactory

    PrrResidentFactory()
    draft = cards.draft_blank_request(office=office, actor=supervisor)
    url = reverse("naskah:request_letter", args=[draft.pk])
    response = head_client.post(f"{url}?kab=18.09")
    assert response.status_code == 200  # the draft PDF, unnumbered
    assert not Letter.objects.exists()


def test_staff_of_another_district_cannot_number_a_letter_by_post(
    client, make_staff, submitted_request
):
    Letter.objects.all().delete()
    client.force_login(make_staff("supervisor", region="18.01", username="kadis-lamsel"))
    url = reverse("naskah:request_letter", args=[submitted_request.pk])
    assert client.post(f"{url}?kab=18.09").status_code == 404
    assert not Letter.objects.exists()
