"""`ektp coverage snapshot [--date TTTT-BB-HH]`: store the day's coverage (for cron / a timer).

`ektp coverage boundaries --source DIR`: convert the wilayah_boundaries dumps once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ektp.coverage import boundaries
from ektp.coverage.services import take_snapshots


class Command(BaseCommand):
    help = "Simpan cuplikan cakupan harian semua wilayah (aman dijalankan berulang)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["snapshot", "boundaries"])
        parser.add_argument("--date", default=None, help="Tanggal (TTTT-BB-HH), bawaan hari ini")
        parser.add_argument("--source", default=None, help="Folder wilayah_boundaries (*.sql)")

    def handle(self, *args, **opts):
        if opts["action"] == "boundaries":
            source = Path(opts["source"] or "")
            if not opts["source"] or not source.is_dir():
                raise CommandError("--source harus folder berisi berkas wilayah_boundaries *.sql.")
            count = boundaries.convert(source)
            self.stdout.write(f"{count} batas wilayah tersimpan di {boundaries.DATA_FILE}.")
            return
        today = timezone.localdate()
        if opts["date"]:
            try:
                day = dt.date.fromisoformat(opts["date"])
            except ValueError:
                raise CommandError("Tanggal harus berformat TTTT-BB-HH.") from None
        else:
            day = today
        if day > today:
            raise CommandError("Tanggal cuplikan tidak boleh di masa depan.")
        count = take_snapshots(day=day)
        self.stdout.write(f"{count} cuplikan cakupan tersimpan untuk {day:%d-%m-%Y}.")
