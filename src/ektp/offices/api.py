"""API for the offices app."""

from ninja import Router

router = Router(tags=["offices"])
