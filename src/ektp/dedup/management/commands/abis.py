"""`ektp abis serve [--host --port --data-dir --shards N]`: run the ABIS engine as an HTTP
service, one gallery or N shards (Ray actors, settings.ABIS_SHARDS by default).
`ektp abis rebuild`: rebuild the iris gallery from the encrypted templates in the database.
`ektp abis delete SUBJECT --reason …`: remove one resident's iris from the gallery (audited)."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ektp.abis.errors import AbisError
from ektp.abis.service import DEFAULT_PORT, LocalAbis, make_server
from ektp.dedup.engine import abis_keys, abis_settings

if TYPE_CHECKING:
    from ektp.abis.sharded import ShardedAbis


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
        serve.add_argument(
            "--shards",
            type=_shards,
            default=None,
            help="Bagi galeri menjadi N shard (aktor Ray); 0 satu galeri "
            "(bawaan: settings.ABIS_SHARDS)",
        )
        sub.add_parser(
            "rebuild",
            help="Bangun ulang galeri iris dari templat terenkripsi di basis data "
            "(mis. setelah basis data dipulihkan tanpa galerinya).",
        )
        delete = sub.add_parser("delete", help="Hapus iris satu penduduk dari galeri.")
        delete.add_argument("subject", help="ID penduduk (UUID) di galeri")
        delete.add_argument("--reason", required=True, help="Alasan penghapusan (dicatat)")

    def handle(self, *args, **opts):
        if opts["action"] == "serve":
            self.serve(
                host=opts["host"],
                port=opts["port"],
                data_dir=opts["data_dir"],
                shards=opts["shards"],
            )
        elif opts["action"] == "rebuild":
            self.rebuild()
        else:
            self.delete(subject=opts["subject"], reason=opts["reason"])

    def rebuild(self) -> None:
        """Rebuild the gallery the settings choose (in-process or remote)."""
        from ektp.dedup import gallery

        try:
            done = gallery.rebuild()
        except AbisError as error:
            raise CommandError(
                f"Galeri ABIS tidak dapat dibangun ulang: {error}. Hentikan dulu proses yang "
                "memakainya (worker, `ektp abis serve`)."
            ) from None
        if done.discarded_damaged:
            self.stdout.write("Galeri lama rusak atau belum terenkripsi: dihapus.")
        self.stdout.write(
            f"Galeri iris dibangun ulang: {done.residents} penduduk"
            + (f", {done.skipped} dilewati (tanpa iris yang layak)." if done.skipped else ".")
        )

    def delete(self, *, subject: str, reason: str) -> None:
        """Remove one subject from the gallery, with the reason in the audit log."""
        from ektp.dedup import gallery
        from ektp.dedup.errors import DedupError

        try:
            removed = gallery.delete(subject_id=subject, actor=None, reason=reason, channel="cli")
        except (AbisError, DedupError) as error:
            raise CommandError(str(error)) from None
        if not removed:
            raise CommandError(f"{subject} tidak ada di galeri.")
        self.stdout.write(f"{subject} dihapus dari galeri.")

    def serve(
        self, *, host: str, port: int, data_dir: str | None, shards: int | None = None
    ) -> None:
        """Serve a persistent gallery until interrupted or shut down, then checkpoint it."""
        directory = Path(data_dir or abis_settings()[1] or "var/abis")
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        shards = settings.ABIS_SHARDS if shards is None else shards
        abis: LocalAbis | ShardedAbis
        try:
            if shards:
                from ektp.abis.sharded import ShardedAbis  # Ray loads only when sharded

                abis = ShardedAbis(
                    shards,
                    directory,
                    keys=abis_keys(),
                    address=settings.ABIS_RAY_ADDRESS,
                    timeout=settings.ABIS_SHARD_TIMEOUT,
                )
            else:
                abis = LocalAbis(directory, keys=abis_keys())
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


def _shards(value: str) -> int:
    try:
        shards = int(value)
    except ValueError:
        shards = -1
    if not 0 <= shards <= 1024:
        raise argparse.ArgumentTypeError(
            f"jumlah shard harus bilangan bulat 0–1024, diterima {value!r}"
        )
    return shards
