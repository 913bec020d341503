"""`ektp seed --region 18.09 --seed 42 [--residents N]`: build a synthetic demo district."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ektp.regions.models import Region
from ektp.regions.services import load_regions
from ektp.residents.demo import prepare_demo_district
from ektp.residents.models import Resident
from ektp.residents.seed import Seeder


class Command(BaseCommand):
    help = "Bangun kabupaten demo sintetis (penduduk, keluarga, riwayat perekaman)."

    def add_arguments(self, parser):
        parser.add_argument("--region", default="18.09", help="Kode kabupaten/kota, mis. 18.09")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--residents",
            type=int,
            default=None,
            help="Jumlah penduduk (bawaan: penduduk wilayah menurut Kemendagri)",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Lewati bila sudah ada penduduk di basis data"
        )
        parser.add_argument("--today", default=None, help="Tanggal acuan (TTTT-BB-HH)")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **opts):
        if not Region.objects.exists():
            load_regions()
        region = Region.objects.filter(code=opts["region"]).first()
        if region is None or region.level != Region.Level.KABKOTA:
            raise CommandError(f"Kode {opts['region']} bukan kabupaten/kota yang dikenal.")
        if opts["residents"] is not None and opts["residents"] < 0:
            raise CommandError("--residents tidak boleh negatif.")
        if opts["if_empty"] and Resident.objects.exists():
            self.stdout.write("Basis data sudah berisi penduduk; penyemaian dilewati.")
            prepare_demo_district(region)
            return
        if Resident.objects.filter(kabkota_code=region.code).exists():
            raise CommandError(f"{region.name} sudah berisi penduduk; gunakan basis data kosong.")
        today = dt.date.fromisoformat(opts["today"]) if opts["today"] else dt.date.today()
        seeder = Seeder(region=region, seed=opts["seed"], residents=opts["residents"], today=today)
        started = time.perf_counter()
        with tqdm(
            total=seeder.total, unit=" penduduk", disable=opts["no_progress"], desc=region.name
        ) as bar:
            result = seeder.run(progress=bar.update)
        elapsed = time.perf_counter() - started
        prepare_demo_district(region)
        self.stdout.write(
            f"{result.residents} penduduk, {result.families} keluarga di {result.villages} desa "
            f"dalam {elapsed:.1f} detik ({result.residents / max(elapsed, 1e-9):,.0f} penduduk/detik)."
        )
