"""`ektp appointments remind [--date TTTT-BB-HH]`: remind the residents booked for tomorrow."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ektp.appointments.services import remind_day


class Command(BaseCommand):
    help = "Kirim pengingat booking untuk besok (aman dijalankan berulang)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["remind"])
        parser.add_argument(
            "--date", default=None, help="Tanggal booking (TTTT-BB-HH), bawaan besok"
        )

    def handle(self, *args, **opts):
        if opts["date"]:
            try:
                day = dt.date.fromisoformat(opts["date"])
            except ValueError:
                raise CommandError("Tanggal harus berformat TTTT-BB-HH.") from None
        else:
            day = timezone.localdate() + dt.timedelta(days=1)
        count = remind_day(day=day)
        self.stdout.write(f"{count} pengingat untuk {day:%d-%m-%Y} dijadwalkan.")
