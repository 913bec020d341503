"""API for the coverage app."""

from ninja import Router

router = Router(tags=["coverage"])
