"""Public API for the KTP-el status inquiry (no token; rate-limited like the page)."""

from __future__ import annotations

from ninja import Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from ektp.core.ratelimit import TOO_MANY_MESSAGE, over_limit, per_client, per_nik
from ektp.portal import selectors
from ektp.residents.nik import parse_nik

router = Router(tags=["portal"])


class InquiryIn(Schema):
    nik: str = Field(..., max_length=40, description="NIK, 16 angka")
    birth_date: str = Field(..., max_length=20, description="Tanggal lahir HH-BB-TTTT")


class SuketOut(Schema):
    number: str
    valid_until: str


class BookingOut(Schema):
    """Where and when; never the booking's code, which lets one manage it."""

    date: str
    window: str
    point: str
    queue_number: int


class StatusOut(Schema):
    found: bool
    message: str
    stage: str = ""
    headline: str = ""
    masked_nik: str = ""
    masked_name: str = ""
    sukets: list[SuketOut] = []
    bookings: list[BookingOut] = []


@router.post("/status", response=StatusOut, auth=None)
def check_status(request, payload: InquiryIn):
    """Say where a KTP-el stands for a NIK and birth date that both match (no booking code, no
    download link: a NIK and a birth date are public)."""
    # The client's try is counted before the input is read, so a malformed NIK or birth date
    # counts against the client's rate too; over_limit counts limits in turn and stops at the
    # first one over, so this is the same count as one call with both limits.
    if over_limit(request, per_client(request)):
        raise HttpError(429, TOO_MANY_MESSAGE)
    # InvalidNumber and InquiryInvalid are domain errors: the API answers them 422.
    nik = parse_nik(payload.nik)
    birth_date = selectors.parse_birth_date(payload.birth_date)
    if over_limit(request, per_nik(nik)):
        raise HttpError(429, TOO_MANY_MESSAGE)
    resident = selectors.find_resident(nik=nik, birth_date=birth_date)
    if resident is None:
        return StatusOut(found=False, message=selectors.GENERIC_NOT_FOUND)
    answer = selectors.status_of(resident)
    return StatusOut(
        found=True,
        message=answer.detail,
        stage=answer.stage,
        headline=answer.headline,
        masked_nik=answer.masked_nik,
        masked_name=answer.masked_name,
        sukets=[SuketOut(number=s["number"], valid_until=s["valid_until"]) for s in answer.sukets],
        bookings=[
            BookingOut(
                date=b["date"], window=b["window"], point=b["point"], queue_number=b["queue_number"]
            )
            for b in answer.bookings
        ],
    )
