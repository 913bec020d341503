"""`ektp import KIND FILE --user NAMA [--kab 18.09] [--pemilihan NAMA --hari-pemungutan TTTT-BB-HH] [--terapkan]`

Read a partner file (kua, kpu or ikd; CSV or XLSX) into staging and print the preview: how
many matched by NIK, by demographic dedup, not at all, and each line's problem. With
--terapkan the staged file is applied in one transaction, as from the preview page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ektp.core.errors import DomainError
from ektp.core.models import User
from ektp.partners import selectors, services
from ektp.partners.models import ImportKind, Match

SHOWN = 50


class Command(BaseCommand):
    help = "Impor data mitra (kua, kpu, ikd) dari CSV/XLSX: pratinjau, lalu --terapkan."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="Nama pengguna yang mengimpor")
        parser.add_argument("--kab", default="", help="Kode kab/kota (bawaan: wilayah pengguna)")
        parser.add_argument("--pemilihan", default="", help="Nama pemilihan (untuk kpu)")
        parser.add_argument("--hari-pemungutan", default="", help="TTTT-BB-HH (untuk kpu)")
        parser.add_argument("--terapkan", action="store_true", help="Terapkan setelah diperiksa")

    def handle(self, *args, **opts):
        user = User.objects.filter(username=opts["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"Pengguna {opts['user']} tidak ada.")
        kab = opts["kab"] or (user.region_id or "")[:5]
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"Berkas {path} tidak ada.")
        try:
            election = None
            if opts["kind"] == ImportKind.VOTERS:
                try:
                    polling_day = dt.date.fromisoformat(opts["hari_pemungutan"])
                except ValueError:
                    raise CommandError("--hari-pemungutan harus berformat TTTT-BB-HH.") from None
                election = services.create_election(
                    actor=user, kabkota_code=kab, name=opts["pemilihan"], polling_day=polling_day
                )
            staged = services.stage_import(
                actor=user,
                kind=opts["kind"],
                kabkota_code=kab,
                file_name=path.name,
                content=path.read_bytes(),
                election=election,
            )
            self._print_preview(staged)
            if opts["terapkan"]:
                applied = services.apply_import(actor=user, partner_import=staged)
                self.stdout.write(
                    "Diterapkan: " + ", ".join(f"{k}={v}" for k, v in applied.result.items())
                )
            else:
                self.stdout.write(f"Belum diterapkan. Pratinjau: /mitra/impor/{staged.pk}/")
        except DomainError as exc:
            raise CommandError(exc.message) from None

    def _print_preview(self, staged) -> None:
        preview = selectors.preview(staged)
        out = self.stdout.write
        out(f"{staged.file_name}: {staged.total_lines} baris, SHA-256 {staged.sha256}")
        for match in Match:
            out(f"  {match.label}: {preview.counts[match.value]}")
        out(f"  Akan berubah: {preview.changing} orang")
        for row in preview.problems[:SHOWN]:
            out(f"  baris {row.line} {row.role}: {row.problem}".rstrip())
        for row in preview.unmatched[:SHOWN]:
            out(f"  baris {row.line} {row.role} tidak cocok: {row.problem}".rstrip())
