"""`ektp backup [--output PATH]`: one encrypted archive of the database, var/keys and the ABIS
gallery, made while the system runs. `ektp backup --new-key FILE` makes the backup key."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ektp.core.backup import BackupError, create_backup, new_key


class Command(BaseCommand):
    help = _(
        "Cadangkan basis data, kunci (var/keys) dan galeri ABIS ke satu arsip terenkripsi, "
        "tanpa menghentikan sistem."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            default=None,
            help=_("Berkas arsip (bawaan: var/backups/ektp-<node>-<waktu>.tar.age)"),
        )
        parser.add_argument(
            "--new-key",
            default=None,
            metavar="FILE",
            help=_("Buat kunci cadangan baru di FILE (mode 0600) lalu berhenti"),
        )

    def handle(self, *args, **opts):
        try:
            if opts["new_key"]:
                path = new_key(Path(opts["new_key"]))
                self.stdout.write(
                    _(
                        "Kunci cadangan dibuat di %(path)s. Setel EKTP_BACKUP_KEY_FILE=%(path)s, "
                        "simpan salinannya di luar mesin ini dan jangan pernah di samping arsip."
                    )
                    % {"path": path}
                )
                return
            result = create_backup(output=Path(opts["output"]) if opts["output"] else None)
        except BackupError as error:
            raise CommandError(str(error)) from None
        manifest = result.manifest
        files = sum(1 for m in manifest.members.values() if m.kind == "file")
        self.stdout.write(
            _(
                "Cadangan ditulis ke %(path)s (%(size)s bita): %(tables)s tabel, %(rows)s baris, "
                "%(files)s berkas. Salin ke luar mesin ini; kuncinya disimpan terpisah."
            )
            % {
                "path": result.path,
                "size": f"{result.path.stat().st_size:,}",
                "tables": len(manifest.tables),
                "rows": f"{sum(manifest.tables.values()):,}",
                "files": files,
            }
        )
        if manifest.abis_remote:
            self.stderr.write(
                _(
                    "ABIS_URL disetel: galeri pada layanan ABIS terpisah hanya ikut bila ada di "
                    "ABIS_DATA_DIR mesin ini; cadangkan mesin ABIS itu juga."
                )
            )
