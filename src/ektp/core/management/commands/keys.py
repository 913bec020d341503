"""`ektp keys status | rotate-biometric | rotate-suket`: the install's own keys."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from ektp.core.keys import KeyStore


class Command(BaseCommand):
    help = "Kunci instalasi ini: status, rotasi kunci biometrik, rotasi kunci suket."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="Tampilkan asal setiap kunci (tanpa isinya).")
        biometric = sub.add_parser(
            "rotate-biometric",
            help="Buat kunci biometrik baru, enkripsi ulang semua sampel, lalu hapus kunci lama.",
        )
        biometric.add_argument(
            "--keep-old",
            action="store_true",
            help="Simpan kunci lama untuk membuka saja (tidak dipakai mengenkripsi).",
        )
        biometric.add_argument(
            "--reencrypt",
            action="store_true",
            help="Tanpa kunci baru: enkripsi ulang sampel dengan kunci pertama yang berlaku "
            "(setelah EKTP_BIOMETRIC_KEY diganti, atau melanjutkan rotasi yang terputus).",
        )
        biometric.add_argument("--batch-size", type=int, default=500)
        sub.add_parser(
            "rotate-suket",
            help="Buat kunci suket baru; kunci publik lama disimpan agar suket lama tetap sah.",
        )

    def handle(self, *args, **opts):
        action = opts["action"]
        if action == "status":
            self.status()
        elif action == "rotate-biometric":
            self.rotate_biometric(
                keep_old=opts["keep_old"], reencrypt=opts["reencrypt"], batch=opts["batch_size"]
            )
        else:
            self.rotate_suket()

    def status(self) -> None:
        store = KeyStore(settings.EKTP_KEY_DIR)
        missing = store.missing()
        self.stdout.write(f"Direktori kunci: {store.directory}")
        for env in (
            "EKTP_SECRET_KEY",
            "EKTP_BIOMETRIC_KEY",
            "EKTP_ABIS_KEY",
            "EKTP_SUKET_QR_KEY",
            "EKTP_SUKET_SIGNING_KEY",
            "EKTP_SUKET_SIGNING_CERT",
        ):
            if any(m.startswith(env + " ") for m in missing):
                source = "TIDAK ADA"
            elif store.environ.get(env, "").strip():
                source = "variabel lingkungan"
            else:
                source = "berkas"
            self.stdout.write(f"  {env}: {source}")
        if missing:
            raise CommandError(f"{len(missing)} kunci belum tersedia.")

    def rotate_biometric(self, *, keep_old: bool, reencrypt: bool, batch: int) -> None:
        from ektp.enrollment.key_rotation import (
            KeyRotationError,
            reencrypt_samples,
            rotate_biometric_key,
        )

        if batch < 1:
            raise CommandError("--batch-size harus bilangan bulat positif.")

        def progress(seen: int) -> None:
            self.stdout.write(f"  {seen} sampel diperiksa")

        try:
            if reencrypt:
                done = reencrypt_samples(batch_size=batch, progress=progress)
            else:
                done = rotate_biometric_key(keep_old=keep_old, batch_size=batch, progress=progress)
        except (KeyRotationError, ImproperlyConfigured) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Selesai: {done.samples} sampel, {done.rewritten} dienkripsi ulang "
            f"dalam {done.passes} putaran; {done.dropped} kunci lama dihapus."
        )

    def rotate_suket(self) -> None:
        from ektp.suket import signing

        try:
            keys = signing.rotate_keys()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Kunci suket baru dibuat ({keys.signing_cert_path}); "
            f"{len(keys.retired_public)} kunci publik lama tetap dipakai untuk verifikasi."
        )
        if signing.development_warnings():
            self.stdout.write(
                "Sertifikat baru swa-tanda-tangan: di produksi pasang sertifikat kantor."
            )
