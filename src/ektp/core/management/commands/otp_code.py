"""`ektp otp_code USERNAME`: the current TOTP code of a demo account (never in production)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ektp.core import otp
from ektp.core.models import User


class Command(BaseCommand):
    help = (
        "Tampilkan kode autentikator (TOTP) yang berlaku sekarang untuk akun demo. "
        "Tidak tersedia di produksi."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **opts):
        if settings.ENVIRONMENT == "production":
            raise CommandError("Perintah ini tidak tersedia di produksi.")
        user = User.objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(f"Pengguna {opts['username']!r} tidak ada.")
        device = user.totpdevice_set.filter(confirmed=True).order_by("pk").first()
        if device is None:
            raise CommandError(f"Pengguna {opts['username']!r} belum punya autentikator.")
        self.stdout.write(otp.current_code(device))
