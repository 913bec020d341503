"""`ektp notifications retry`: enqueue every due message again."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from ektp.notifications import services


class Command(BaseCommand):
    help = "Kelola pesan notifikasi: `retry` mengantrekan ulang pesan yang jatuh tempo."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["retry"])

    def handle(self, *args, action: str, **options):
        count = services.retry_due()
        self.stdout.write(f"{count} pesan diantrekan ulang.")
