"""A registry scan shows its progress: the job's JSON moves from the queue to its result."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ektp.core import jobs
from ektp.core.models import Job, JobState, Role
from ektp.dedup import services
from ektp.dedup.tasks import scan_region
from tests.dedup.factories import distinct_person
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def supervisor_client(client, make_staff):
    client.force_login(make_staff(Role.SUPERVISOR))
    return client


def _schedule(client, settings, region="18.09"):
    settings.TASKS = DUMMY
    client.post(reverse("dedup:scan"), {"region": region})
    return Job.objects.get()


def _json(client, job):
    response = client.get(reverse("core:job", args=[job.pk]))
    assert response.status_code == 200
    return response.json()


def test_a_scheduled_scan_waits_in_the_queue_with_no_count_yet(supervisor_client, settings):
    job = _schedule(supervisor_client, settings)
    data = _json(supervisor_client, job)
    assert data["state"] == "queued" and data["state_label"] == "Dalam antrean"
    assert data["percent"] is None and not data["finished"] and data["result_url"] == ""
    assert "Pesawaran" in data["title"]


def test_the_queue_page_shows_the_scan_and_its_bar(supervisor_client, settings):
    job = _schedule(supervisor_client, settings)
    page = supervisor_client.get(reverse("dedup:queue")).content.decode()
    assert reverse("core:job", args=[job.pk]) in page and "<progress" in page
    assert "ektp/progress.js" in page and "Dalam antrean" in page


def test_the_json_follows_each_step_of_the_scan_to_its_result(supervisor_client, settings):
    for i in range(6):
        ResidentFactory(**distinct_person(i))
    job = _schedule(supervisor_client, settings)
    seen = []

    class Watched(jobs.Progress):
        def step(self, done, total, message):
            super().step(done, total, message)
            seen.append(_json(supervisor_client, job))

    with jobs.running(job.pk):
        services.scan_registry(region="18.09", progress=Watched(job.pk))
    assert [(s["done"], s["total"], s["percent"]) for s in seen] == [
        (0, 4, 0),
        (1, 4, 25),
        (2, 4, 50),
        (3, 4, 75),
    ]
    assert all(s["state"] == "running" and not s["finished"] for s in seen)
    assert seen[1]["message"] == "Membandingkan data 6 penduduk."


def test_the_task_ends_the_job_with_its_result(supervisor_client, settings):
    job = _schedule(supervisor_client, settings)
    scan_region.call(region="18.09", job_id=str(job.pk))
    data = _json(supervisor_client, job)
    assert data["state"] == "done" and data["percent"] == 100 and data["finished"]
    # The state already says "Selesai": the message does not say it twice.
    assert data["state_label"] == "Selesai" and "Selesai" not in data["message"]
    assert (
        data["message"].endswith("kasus data ganda baru.")
        and "penduduk diperiksa" in data["message"]
    )
    assert data["result_url"] == reverse("dedup:queue")


def test_a_scan_scheduled_after_commit_runs_and_finishes(
    supervisor_client, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True):
        supervisor_client.post(reverse("dedup:scan"), {"region": "18.09"})
    assert Job.objects.get().state == JobState.DONE


def test_a_refused_scan_ends_failed_with_the_reason_in_indonesian(supervisor_client, settings):
    job = _schedule(supervisor_client, settings)
    scan_region.call(region="99.99.99.9999.9", job_id=str(job.pk))
    data = _json(supervisor_client, job)
    assert data["state"] == "failed" and data["state_label"] == "Gagal" and data["finished"]
    assert "wilayah" in data["message"].lower()


def test_a_crash_ends_the_job_failed_and_is_raised_to_the_queue(supervisor_client, settings):
    job = _schedule(supervisor_client, settings)
    with pytest.raises(ZeroDivisionError), jobs.running(job.pk):
        1 / 0  # noqa: B018
    data = _json(supervisor_client, job)
    assert data["state"] == "failed" and data["message"] == jobs.UNEXPECTED


def test_another_user_cannot_follow_the_job(client, supervisor_client, settings, make_staff):
    job = _schedule(supervisor_client, settings)
    client.force_login(make_staff(Role.OPERATOR))
    assert client.get(reverse("core:job", args=[job.pk])).status_code == 404
    assert client.get("/tugas/bukan-uuid/").status_code == 404
