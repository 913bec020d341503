"""Background tasks on Redis Queue (EKTP_TASK_BACKEND=rq): what ektp asks of the queue.

A district runs its tasks in the database (django-tasks-db and ``ektp db_worker``); a province
or the nation runs the same tasks on Redis Queue through django-tasks-rq, with as many
``ektp rqworker --job-class django_tasks_rq.Job default`` processes on as many machines as the
work needs. The guarantees stay those of the tasks themselves: each is enqueued after commit, by
id, and is safe to run twice; a job lost with its worker (RQ moves it to the failed registry as
abandoned) leaves its resident SENT_FOR_ENROLLMENT, which ``ektp daily`` queues again like any
stuck recording. Only rq's public API is used here.
"""

from __future__ import annotations

from django.conf import settings

QUEUE = "default"


def in_use() -> bool:
    """Tell whether the tasks go to Redis Queue."""
    return settings.TASK_BACKEND == settings.RQ_BACKEND


def _queue(name: str = QUEUE):
    import django_rq
    from django_tasks_rq import Job

    return django_rq.get_queue(name, job_class=Job)


def queued_or_running(task) -> list[dict]:
    """Return the keyword arguments of a task's jobs that wait in its queue or run now."""
    from django_tasks_rq import Job
    from rq.registry import StartedJobRegistry

    queue = _queue(task.queue_name)
    ids = [*queue.get_job_ids(), *StartedJobRegistry(queue=queue).get_job_ids()]
    jobs = Job.fetch_many(ids, connection=queue.connection) if ids else []
    return [
        dict(job.kwargs or {})
        for job in jobs
        if job is not None and job.func_name == task.module_path
    ]


def workers() -> tuple[bool, str]:
    """Tell whether a worker listens on the queue (for /healthz), in a sentence for the public."""
    from redis.exceptions import RedisError
    from rq import Worker

    try:
        count = Worker.count(queue=_queue())
    except RedisError as error:
        return False, f"antrean tugas (Redis) tidak terjangkau ({type(error).__name__})"
    if count == 0:
        return False, "tidak ada pekerja tugas yang mendengarkan antrean Redis"
    return True, f"{count} pekerja tugas mendengarkan antrean Redis"
