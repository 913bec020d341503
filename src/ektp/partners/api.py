"""API for partner data: an import's preview counts, an election's figures by village (the
same as the page and the export), IKD activations."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from ektp.partners import selectors, services
from ektp.residents.nik import NikIn

router = Router(tags=["partners"])


class VillageVotersOut(Schema):
    code: str
    name: str
    listed: int
    first_time: int
    not_recorded: int
    first_time_not_recorded: int


class ImportOut(Schema):
    id: UUID
    kind: str
    status: str
    file_name: str
    sha256: str
    total_lines: int
    counts: dict[str, int]
    result: dict


class ActivationIn(Schema):
    nik: NikIn
    channel: str = Field(..., max_length=20)
    place: str = Field(..., max_length=150)
    activated_on: dt.date


class ActivationOut(Schema):
    nik: str
    channel: str
    place: str
    activated_on: dt.date


def _manager(request):
    if request.auth.role not in services.IMPORTERS:
        raise HttpError(403, "Peran Anda tidak boleh membuka data mitra.")
    return request.auth


@router.get("/elections/{election_id}/villages", response=list[VillageVotersOut])
def election_villages(request, election_id: UUID):
    """Residents on the voter list, first-time voters and the unrecorded among them, by village."""
    election = selectors.elections_for(_manager(request)).filter(pk=election_id).first()
    if election is None:
        raise HttpError(404, "Pemilihan tidak ditemukan di wilayah kerja Anda.")
    return [v.as_dict() for v in selectors.voters_by_village(election)]


@router.get("/imports/{import_id}", response=ImportOut)
def import_preview(request, import_id: UUID):
    """How a staged (or applied) import matched, by kind of match, and what it changed."""
    found = selectors.imports_for(_manager(request)).filter(pk=import_id).first()
    if found is None:
        raise HttpError(404, "Impor tidak ditemukan di wilayah kerja Anda.")
    preview = selectors.preview(found)
    return {
        "id": found.pk,
        "kind": found.kind,
        "status": found.status,
        "file_name": found.file_name,
        "sha256": found.sha256,
        "total_lines": found.total_lines,
        "counts": preview.counts,
        "result": found.result,
    }


@router.post("/ikd/activations", response={201: ActivationOut})
def record_activation(request, payload: ActivationIn):
    """Record an IKD activation (the resident must hold a recorded KTP-el)."""
    activation = services.record_ikd_activation(
        actor=request.auth,
        nik=payload.nik,
        channel=payload.channel,
        place=payload.place,
        activated_on=payload.activated_on,
        request=request,
    )
    return Status(
        201,
        {
            "nik": activation.resident.nik,
            "channel": activation.channel,
            "place": activation.place,
            "activated_on": activation.activated_on,
        },
    )
