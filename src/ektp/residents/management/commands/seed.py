"""`ektp seed --region 18.09 --seed 42 [--residents N]`: build a synthetic demo district.

`--region 18` seeds every district of a province (at its real population unless
--residents says otherwise); `--jobs N` runs N processes side by side on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from ektp.regions.models import Region
from ektp.regions.services import load_regions
from ektp.residents.demo import prepare_demo_district
from ektp.residents.models import Resident
from ektp.residents.seed import Seeder, district_sizes, seed_province


def _seed_today(value: str | None) -> dt.date:
    """Read --today: the office's today when absent, never a day in the future."""
    today = timezone.localdate()
    if not value:
        return today
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError("--today harus berformat TTTT-BB-HH.") from None
    if day > today:
        raise CommandError("--today tidak boleh di masa depan: perekaman belum terjadi.")
    return day


class Command(BaseCommand):
    help = "Bangun kabupaten demo sintetis (penduduk, keluarga, riwayat perekaman)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--region",
            default="18.09",
            help="Kode kabupaten/kota (mis. 18.09) atau provinsi (mis. 18)",
        )
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
        parser.add_argument(
            "--jobs",
            type=int,
            default=1,
            help="Jumlah proses untuk penyemaian provinsi (hanya PostgreSQL)",
        )

    def handle(self, *args, **opts):
        if not Region.objects.exists():
            load_regions()
        region = Region.objects.filter(code=opts["region"]).first()
        if region is None or region.level not in (Region.Level.PROVINSI, Region.Level.KABKOTA):
            raise CommandError(
                f"Kode {opts['region']} bukan provinsi atau kabupaten/kota yang dikenal."
            )
        if opts["jobs"] < 1:
            raise CommandError("--jobs paling sedikit 1.")
        if opts["residents"] is not None and opts["residents"] < 0:
            raise CommandError("--residents tidak boleh negatif.")
        if opts["if_empty"] and Resident.objects.exists():
            self.stdout.write("Basis data sudah berisi penduduk; penyemaian dilewati.")
            if region.level == Region.Level.KABKOTA:
                prepare_demo_district(region)
            return
        field = "province_code" if region.level == Region.Level.PROVINSI else "kabkota_code"
        if Resident.objects.filter(**{field: region.code}).exists():
            raise CommandError(f"{region.name} sudah berisi penduduk; gunakan basis data kosong.")
        today = _seed_today(opts["today"])
        if region.level == Region.Level.PROVINSI:
            districts = district_sizes(region, opts["residents"])
            total = sum(n for _, n in districts)
        else:
            seeder = Seeder(
                region=region, seed=opts["seed"], residents=opts["residents"], today=today
            )
            total = seeder.total
        started = time.perf_counter()
        with tqdm(
            total=total, unit=" penduduk", disable=opts["no_progress"], desc=region.name
        ) as bar:
            if region.level == Region.Level.PROVINSI:
                result = seed_province(
                    region,
                    seed=opts["seed"],
                    residents=opts["residents"],
                    today=today,
                    jobs=opts["jobs"],
                    progress=bar.update,
                )
            else:
                result = seeder.run(progress=bar.update)
        elapsed = time.perf_counter() - started
        if region.level == Region.Level.PROVINSI:
            for district, _ in sorted(districts, key=lambda pair: pair[0].code):
                prepare_demo_district(district, today=today)
        else:
            prepare_demo_district(region, today=today)
        self.stdout.write(
            f"{result.residents} penduduk, {result.families} keluarga di {result.villages} desa "
            f"dalam {elapsed:.1f} detik ({result.residents / max(elapsed, 1e-9):,.0f} penduduk/detik)."
        )
