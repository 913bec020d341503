"""API for regions: lookup, children, ancestors, search."""

from __future__ import annotations

from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from ektp.regions import codes, selectors

router = Router(tags=["regions"])


class RegionOut(Schema):
    code: str
    name: str
    level: int
    kind: str
    parent_code: str | None = Field(None, alias="parent_id")
    population: int | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    successor_code: str | None = Field(None, alias="successor_id")
    updated_at: str | None = None

    @staticmethod
    def resolve_valid_from(obj) -> str | None:
        return obj.valid_from.isoformat() if obj.valid_from else None

    @staticmethod
    def resolve_valid_to(obj) -> str | None:
        return obj.valid_to.isoformat() if obj.valid_to else None

    @staticmethod
    def resolve_updated_at(obj) -> str | None:
        return obj.updated_at.isoformat() if obj.updated_at else None


def _code(code: str) -> str:
    if not codes.is_valid_code(code):
        raise HttpError(
            422,
            f"Kode wilayah '{code[:20]}' tidak sah (contoh: 18, 18.09, 18.09.01, 18.09.01.2001).",
        )
    return code


def _get(code: str):
    return selectors.get_region(_code(code))


class SearchIn(Schema):
    q: str = Field(..., min_length=2, max_length=100)
    level: int | None = Field(None, ge=1, le=4)
    within: str | None = Field(None, max_length=13)


@router.get("/search", response=list[RegionOut])
def search(request, params: Query[SearchIn]):
    """Find current regions by name."""
    within = _code(params.within) if params.within else None
    return list(selectors.search_regions(params.q, level=params.level, within=within))


@router.get("/", response=list[RegionOut])
def provinces(request):
    """List the provinces."""
    return list(selectors.children_of(None))


@router.get("/{code}", response=RegionOut)
def get_region(request, code: str):
    """Return one region by its code."""
    return _get(code)


@router.get("/{code}/children", response=list[RegionOut])
def children(request, code: str):
    """Return the current children of a region."""
    _get(code)
    return list(selectors.children_of(code))


@router.get("/{code}/ancestors", response=list[RegionOut])
def ancestors(request, code: str):
    """Return the ancestors of a region, the province first."""
    _get(code)
    return selectors.ancestors_of(code)
