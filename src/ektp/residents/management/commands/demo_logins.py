"""`ektp demo_logins`: print the demo accounts (one per role)."""

from django.core.management.base import BaseCommand

from ektp.core.models import User
from ektp.residents.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Tampilkan akun demo (satu per peran)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, **opts):
        self.stdout.write(f"Akun demo di {opts['url']} :")
        for username, _role, label, _scope in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user:
                where = user.region.name if user.region else "nasional"
                self.stdout.write(f"  {username:10} / {DEMO_PASSWORD}  — {label} ({where})")
