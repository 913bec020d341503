"""`ektp edge enrol|record|sync|status`: this install as an edge node of a mobile unit."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ektp.core.errors import DomainError
from ektp.enrollment.biometrics import capture_all, capture_device_for
from ektp.sync import edge
from ektp.sync.client import ServerUnreachable
from ektp.sync.models import OutboxPacket


class Command(BaseCommand):
    help = "Mode perangkat lapangan: daftar ke kantor, rekam, sinkronkan, lihat status."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        enrol = sub.add_parser(
            "enrol", help="Daftarkan laptop ini ke kantor dengan kode sekali pakai."
        )
        enrol.add_argument("--server", required=True, help="Alamat server kantor, mis. https://…")
        enrol.add_argument("--code", required=True, help="Kode pendaftaran dari halaman perangkat.")
        rec = sub.add_parser("record", help="Rekam satu penduduk (alat perekaman yang dipasang).")
        rec.add_argument("--nik", required=True)
        rec.add_argument("--operator", default="operator-lapangan")
        rec.add_argument(
            "--at",
            default="",
            help="Waktu perangkat untuk latihan (ISO 8601); bawaan: jam perangkat sekarang.",
        )
        sync = sub.add_parser("sync", help="Kirim paket, ambil status dan data referensi.")
        sync.add_argument("--chunk", type=int, default=edge.CHUNK_BYTES)
        sub.add_parser(
            "status", help="Sinkron terakhir, paket menunggu, sisa hari sebelum berhenti."
        )

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except ServerUnreachable as error:
            raise CommandError(f"Server kantor tidak dapat dihubungi: {error}") from None
        except DomainError as error:
            raise CommandError(error.message) from None

    def _enrol(self, *, server, code, **_):
        found = edge.enrol(server_url=server, code=code)
        self.stdout.write(
            f"Terdaftar sebagai perangkat {found.device_id} ({found.service_point}); "
            f"status: {found.standing}. Minta kantor menyetujui perangkat ini."
        )

    def _record(self, *, nik, operator, at, **_):
        found = edge.node()
        if found is None:
            raise CommandError("Perangkat ini belum didaftarkan ke kantor (ektp edge enrol).")
        when = parse_datetime(at) if at else timezone.now()
        if when is None or when.tzinfo is None:
            raise CommandError("--at harus waktu ISO 8601 dengan zona waktu.")
        driver = capture_device_for(resident_id=nik, device_id=found.device_id, recording=1)
        captures, failed = capture_all(device=driver)
        if failed:
            raise CommandError("Kualitas di bawah ambang: " + ", ".join(sorted(failed)))
        packet = edge.record(nik=nik, captures=captures, operator=operator, at=when)
        self.stdout.write(f"Tersimpan di kotak keluar: paket {packet.sequence} ({packet.id[:12]}).")

    def _sync(self, *, chunk, **_):
        report = edge.sync(chunk=chunk)
        self.stdout.write(
            json.dumps(
                {
                    "pushed": report.pushed,
                    "refused": report.refused,
                    "fates": report.fates,
                    "residents": report.residents,
                }
            )
        )

    def _status(self, **_):
        found = edge.node()
        if found is None:
            raise CommandError("Perangkat ini belum didaftarkan ke kantor (ektp edge enrol).")
        waiting = OutboxPacket.objects.filter(pushed_at__isnull=True).count()
        fates = {}
        for fate in OutboxPacket.objects.values_list("fate", flat=True):
            fates[fate] = fates.get(fate, 0) + 1
        self.stdout.write(
            json.dumps(
                {
                    "device": str(found.device_id),
                    "standing": found.standing,
                    "last_sync_at": found.last_sync_at.isoformat() if found.last_sync_at else None,
                    "waiting": waiting,
                    "days_before_freeze": round(edge.days_before_freeze(found), 2),
                    "frozen": edge.frozen_reason(found),
                    "fates": fates,
                    "last_error": found.last_error,
                }
            )
        )
