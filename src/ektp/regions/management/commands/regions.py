"""`ektp regions load`: load the shipped Kemendagri regions (idempotent)."""

from django.core.management.base import BaseCommand

from ektp.regions.services import load_regions


class Command(BaseCommand):
    help = "Muat data wilayah Kemendagri yang dibawa paket (aman dijalankan berulang)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["load"])

    def handle(self, *args, **options):
        result = load_regions()
        self.stdout.write(
            f"Wilayah: {result.created} baru, {result.updated} diperbarui, "
            f"{result.unchanged} tetap."
        )
