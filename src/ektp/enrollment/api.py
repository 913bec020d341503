"""API for the enrollment app."""

from ninja import Router

router = Router(tags=["enrollment"])
