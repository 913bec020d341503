"""`ektp demo_logins`: print the demo accounts (one per role)."""

from django.core.management.base import BaseCommand

from ektp.core import otp
from ektp.core.models import User
from ektp.residents.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Tampilkan akun demo (satu per peran)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, **opts):
        self.stdout.write(f"Akun demo di {opts['url']} :")
        with_code = []
        for username, _role, label, _scope in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user:
                where = user.region.name if user.region else "nasional"
                note = ""
                if otp.second_factor_required(user):
                    # The demo enrols the device itself, so a newcomer gets straight in.
                    otp.enrol_confirmed(user)
                    with_code.append(username)
                    note = "  + kode autentikator"
                self.stdout.write(f"  {username:10} / {DEMO_PASSWORD}  — {label} ({where}){note}")
        if with_code:
            self.stdout.write(
                "Akun bertanda '+ kode autentikator' meminta kode 6 angka setelah kata sandi: "
                f"jalankan `.venv/bin/ektp otp_code NAMA` (mis. `ektp otp_code {with_code[0]}`) "
                "untuk kode yang berlaku sekarang."
            )
