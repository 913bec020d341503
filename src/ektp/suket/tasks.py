"""Background work for suket: delivery of the PDF."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from ektp.suket.models import Suket
from ektp.suket.signals import suket_issued

log = logging.getLogger(__name__)


@task()
def deliver_suket(suket_id: str) -> bool:
    """Announce a new suket with its signed PDF once (suket_issued). Safe to run twice."""
    from ektp.suket import documents

    with transaction.atomic():
        updated = Suket.objects.filter(pk=suket_id, delivery_recorded_at__isnull=True).update(
            delivery_recorded_at=timezone.now()
        )
        if not updated:
            return False
        suket = Suket.objects.select_related("resident", "office").get(pk=suket_id)
        base = (settings.EKTP_PUBLIC_URL or "http://127.0.0.1:8000").rstrip("/")
        verify_url = base + reverse("verify:verify", args=[suket.number])
        pdf = documents.signed_pdf(suket, verify_url=verify_url)
        suket_issued.send(sender=Suket, suket=suket, pdf=pdf)
    return True
