"""Background work for recording: penunggalan after a record is sent."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string
from django_tasks import task

from ektp.enrollment import services


@task()
def run_penunggalan(*, enrollment_id: str) -> str:
    """Run penunggalan for an SFE record through the configured engine, or mark it pending."""
    handler_path = settings.EKTP_PENUNGGALAN_HANDLER
    if handler_path:
        return import_string(handler_path)(enrollment_id=enrollment_id)
    services.mark_awaiting_engine(enrollment_id=enrollment_id)
    return "menunggu_abis"
