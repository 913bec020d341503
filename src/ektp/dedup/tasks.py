"""Background work for penunggalan: check a recording (and retry it), add an adjudicated record, scan."""

from __future__ import annotations

from django.urls import reverse
from django_tasks import task

from ektp.core.formats import angka
from ektp.core.jobs import running
from ektp.dedup import services


@task()
def run_penunggalan(*, enrollment_id: str, attempt: int = 1) -> str:
    """Check one SFE recording for uniqueness (``attempt`` > 1 after engine errors); safe to run twice."""
    return services.run_penunggalan(enrollment_id=enrollment_id, attempt=attempt)


@task()
def add_to_gallery(*, enrollment_id: str) -> bool:
    """Insert an adjudicated PRR record's iris into the gallery; safe to run twice."""
    return services.enroll_in_gallery(enrollment_id=enrollment_id)


@task()
def scan_region(*, region: str | None = None, job_id: str | None = None) -> int:
    """Scan a region's registry for double NIKs and return the number of new cases; the job
    ``job_id`` (when given) shows the scan's progress to the user who started it."""
    created = 0
    with running(job_id) as progress:
        result = services.scan_registry(region=region, progress=progress)
        created = result.created
        progress.finish(
            f"{angka(result.records)} penduduk diperiksa, {angka(created)} kasus data ganda baru.",
            result_url=reverse("dedup:queue"),
        )
    return created
