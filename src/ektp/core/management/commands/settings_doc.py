"""`ektp settings_doc`: write docs/settings.md and .env.example from the declared settings."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ektp.core.settings_doc import generated_files


class Command(BaseCommand):
    help = (
        "Tulis docs/settings.md dan .env.example dari deklarasi pengaturan (EktpSettings); "
        "--check hanya memeriksa bahwa keduanya sesuai."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--root", default=".", help="Puncak repositori (bawaan: direktori kerja)."
        )
        parser.add_argument(
            "--check", action="store_true", help="Gagal bila berkas berbeda; tidak menulis."
        )

    def handle(self, *args, **opts):
        root = Path(opts["root"])
        stale = []
        for relative, text in generated_files().items():
            path = root / relative
            current = path.read_text(encoding="utf-8") if path.is_file() else None
            if current == text:
                continue
            if opts["check"]:
                stale.append(str(relative))
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            self.stdout.write(f"ditulis: {relative}")
        if stale:
            raise CommandError(
                "Tidak sesuai dengan deklarasi pengaturan (jalankan `ektp settings_doc`): "
                + ", ".join(stale)
            )
