"""`ektp daily`: the jobs a cron or systemd timer runs, each safe to repeat.

Coverage snapshots (one row per region per day), tomorrow's booking reminders (once per
booking) and due notification retries. `make demo` runs it every hour beside the worker.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Jalankan tugas harian: snapshot cakupan, pengingat janji besok, kirim ulang pesan."

    JOBS = [
        ("coverage", ["snapshot"]),
        ("appointments", ["remind"]),
        ("notifications", ["retry"]),
    ]

    def handle(self, *args, **opts):
        failed = 0
        for name, arguments in self.JOBS:
            try:
                call_command(name, *arguments, stdout=self.stdout, stderr=self.stderr)
            except Exception as exc:  # one job's failure must not stop the others
                failed += 1
                self.stderr.write(f"{name} {' '.join(arguments)} gagal: {exc}")
        if failed:
            raise SystemExit(1)
