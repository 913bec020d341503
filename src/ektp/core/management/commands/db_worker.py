"""`ektp db_worker`: django-tasks-db's worker, with a heartbeat and the reclaim of lost tasks.

The worker itself is the library's (its public command, unchanged); around it this command
takes up again, at start and with every heartbeat, the tasks that a dead worker left RUNNING
(``ektp.core.worker``), and writes the heartbeat that /healthz reads.
"""

from __future__ import annotations

import os

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as LibraryWorkerCommand

from ektp.core import worker


class Command(LibraryWorkerCommand):
    help = (
        "Jalankan pekerja tugas latar (django-tasks-db) dengan detak jantung; tugas yang "
        "ditinggalkan pekerja yang mati diambil lagi."
    )

    def handle(self, *args, **options) -> None:
        reloading_parent = (
            options.get("reload")
            and not options.get("batch")
            and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        )
        if reloading_parent:  # the autoreloader's parent only watches files: its child works
            return super().handle(*args, **options)
        worker.reclaim_stale_tasks()
        pulse = worker.Pulse(options["worker_id"])
        pulse.start()
        try:
            super().handle(*args, **options)
        finally:
            pulse.stop()
            worker.stopped(worker_id=options["worker_id"])
