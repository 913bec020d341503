"""`ektp restore ARCHIVE [--force]`: put an `ektp backup` archive back onto this install."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ektp.core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = _(
        "Pulihkan arsip `ektp backup` (basis data, kunci, galeri ABIS) ke mesin ini; "
        "hentikan server dan pekerja lebih dulu."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help=_("Arsip dari `ektp backup`"))
        parser.add_argument(
            "--force",
            action="store_true",
            help=_("Timpa basis data dan galeri yang sudah berisi"),
        )

    def handle(self, *args, **opts):
        try:
            result = restore_backup(
                archive=Path(opts["archive"]), force=opts["force"], progress=self.stdout.write
            )
        except BackupError as error:
            raise CommandError(str(error)) from None
        manifest = result.manifest
        self.stdout.write(
            _(
                "Dipulihkan: cadangan %(node)s dari %(created)s (ektp %(version)s), %(tables)s "
                "tabel dengan jumlah baris sama seperti manifes (%(rows)s baris)."
            )
            % {
                "node": manifest.node,
                "created": manifest.created_at,
                "version": manifest.version,
                "tables": len(manifest.tables),
                "rows": f"{sum(manifest.tables.values()):,}",
            }
        )
        if result.gallery:
            counts = ", ".join(f"{name} {count}" for name, count in sorted(result.gallery.items()))
            self.stdout.write(_("Galeri ABIS terbuka: %(counts)s templat.") % {"counts": counts})
        for path in result.kept_aside:
            self.stdout.write(_("Isi lama disimpan di %(path)s.") % {"path": path})
        self.stdout.write(
            _(
                "Jalankan `ektp migrate` bila versi ektp di mesin ini lebih baru, lalu nyalakan server."
            )
        )
