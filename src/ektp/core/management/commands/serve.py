"""`ektp serve`: the production web server, granian running `ektp.wsgi:application`.

One worker process per core and one blocking (Python) thread per worker: on a small
machine more threads only make them queue for the GIL, and a second thread per worker
measured no faster on the status page (see bench/status.py). granian's own threads
read and write the sockets and keep idle connections open without holding a Python
thread. Static files come from WhiteNoise inside the app, so no other server is needed.
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

WSGI_APP = "ektp.wsgi:application"
LOG_LEVELS = ["critical", "error", "warning", "info", "debug"]


def cpu_cores() -> int:
    """Return the cores this process may run on (the default number of workers)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def build_server(
    *,
    host: str,
    port: int,
    workers: int,
    blocking_threads: int,
    backlog: int,
    log_level: str,
    access_log: bool,
    graceful_timeout: int,
):
    """Return a granian server for the project's WSGI app (not started)."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    return Granian(
        WSGI_APP,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=blocking_threads,
        backlog=backlog,
        log_level=LogLevels(log_level),
        log_access=access_log,
        websockets=False,  # WSGI has none; saying so keeps granian from logging it
        # A worker that dies is started again; one that keeps dying stops the server.
        respawn_failed_workers=True,
        # A worker can hang while it stops (seen with Ctrl-C, which signals the workers as
        # well as the server): after this many seconds it is killed, so stopping never hangs.
        workers_kill_timeout=graceful_timeout,
    )


class Command(BaseCommand):
    help = (
        "Jalankan server web produksi (granian, antarmuka WSGI): satu proses pekerja per "
        "inti CPU, satu thread Python per pekerja."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--host", default="127.0.0.1", help="Alamat yang didengarkan (bawaan: 127.0.0.1)."
        )
        parser.add_argument("--port", type=int, default=8000, help="Port (bawaan: 8000).")
        parser.add_argument(
            "--workers",
            type=int,
            default=cpu_cores(),
            help="Jumlah proses pekerja (bawaan: jumlah inti CPU).",
        )
        parser.add_argument(
            "--blocking-threads",
            type=int,
            default=1,
            help="Thread Python per pekerja yang menjalankan aplikasi (bawaan: 1).",
        )
        parser.add_argument(
            "--backlog",
            type=int,
            default=1024,
            help="Antrean koneksi yang belum diterima (bawaan: 1024, minimal 128).",
        )
        parser.add_argument(
            "--log-level",
            choices=LOG_LEVELS,
            default="info",
            help="Tingkat log server (bawaan: info).",
        )
        parser.add_argument(
            "--access-log", action="store_true", help="Catat setiap permintaan (log akses)."
        )
        parser.add_argument(
            "--graceful-timeout",
            type=int,
            default=10,
            help="Detik untuk pekerja menyelesaikan permintaan saat berhenti, sebelum "
            "dimatikan paksa (bawaan: 10).",
        )

    def handle(self, *args, **opts):
        for name in ("workers", "blocking_threads", "graceful_timeout"):
            if opts[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} minimal 1.")
        if not 0 < opts["port"] < 65536:
            raise CommandError("--port harus antara 1 dan 65535.")
        if opts["backlog"] < 128:
            raise CommandError("--backlog minimal 128.")
        server = build_server(
            host=opts["host"],
            port=opts["port"],
            workers=opts["workers"],
            blocking_threads=opts["blocking_threads"],
            backlog=opts["backlog"],
            log_level=opts["log_level"],
            access_log=opts["access_log"],
            graceful_timeout=opts["graceful_timeout"],
        )
        # The workers are forked from this process: none may inherit its connections.
        connections.close_all()
        server.serve()
