"""`ektp abis serve [--host --port --data-dir]`: run the ABIS engine as an HTTP service."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ektp.abis.errors import AbisError
from ektp.abis.service import DEFAULT_PORT, LocalAbis, make_server
from ektp.dedup.engine import abis_settings


class Command(BaseCommand):
    help = "Layanan ABIS (penunggalan biometrik 1:N) melalui HTTP."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ready = threading.Event()
        self.server = None

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        serve = sub.add_parser("serve", help="Jalankan layanan ABIS sampai dihentikan.")
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=_port, default=DEFAULT_PORT, help="0 memilih port bebas")
        serve.add_argument(
            "--data-dir", default=None, help="Direktori galeri (bawaan: settings.ABIS_DATA_DIR)"
        )

    def handle(self, *args, **opts):
        if opts["action"] == "serve":
            self.serve(host=opts["host"], port=opts["port"], data_dir=opts["data_dir"])

    def serve(self, *, host: str, port: int, data_dir: str | None) -> None:
        """Serve a persistent gallery until interrupted or shut down, then checkpoint it."""
        directory = Path(data_dir or abis_settings()[1] or "var/abis")
        directory.mkdir(parents=True, exist_ok=True)
        try:
            abis = LocalAbis(directory)
        except AbisError as error:
            raise CommandError(f"Galeri ABIS di {directory} tidak dapat dibuka: {error}") from None
        try:
            try:
                self.server = make_server(abis, host, port)
            except OSError as error:
                raise CommandError(f"Tidak dapat mendengarkan di {host}:{port}: {error}") from None
            counts = abis.ping()["modalities"]
            self.stdout.write(f"ABIS melayani {self.server.url} dari {directory} {counts}")
            self.stdout.flush()
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, _interrupt)
            self.ready.set()
            try:
                self.server.serve_forever()
            except KeyboardInterrupt:
                self.stdout.write("ABIS berhenti.")
            finally:
                self.server.server_close()
                abis.checkpoint()
        finally:
            abis.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port harus bilangan bulat 0–65535, diterima {value!r}")
    return port
