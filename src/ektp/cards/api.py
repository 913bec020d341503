"""API for the cards app."""

from ninja import Router

router = Router(tags=["cards"])
