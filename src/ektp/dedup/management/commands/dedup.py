"""`ektp dedup scan [--region 18.09]`: find double NIKs in the registry and open duplicate cases."""

from __future__ import annotations

import argparse
import time

from django.core.management.base import BaseCommand, CommandError

from ektp.dedup import services
from ektp.dedup.demo import plant_duplicates
from ektp.dedup.errors import DedupError

PHASES = {
    "read": "baca registri",
    "table": "normalisasi",
    "load": "muat DuckDB",
    "model": "model Splink",
    "predict": "blocking+skor",
    "cluster": "pengelompokan",
    "cases": "buka kasus",
}


class Command(BaseCommand):
    help = "Penunggalan demografis: cari NIK ganda di registri dan buka kasus adjudikasi."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        scan = sub.add_parser("scan", help="Pindai registri (atau satu wilayah) untuk NIK ganda.")
        scan.add_argument("--region", default=None, help="Kode wilayah, mis. 18 atau 18.09")
        train = sub.add_parser(
            "train", help="Latih model demografis untuk satu provinsi atau kabupaten/kota."
        )
        train.add_argument("--region", required=True, help="Kode wilayah, mis. 18 atau 18.09")
        train.add_argument("--target-precision", type=_precision, default=services.TARGET_PRECISION)
        plant = sub.add_parser("plant", help="Tanam NIK ganda sintetis di kabupaten demo.")
        plant.add_argument("--region", default="18.09", help="Kode wilayah, mis. 18.09")
        plant.add_argument("--count", type=_count, default=20)
        plant.add_argument("--seed", type=int, default=42)

    def handle(self, *args, **opts):
        if opts["action"] == "plant":
            self.plant(opts)
        elif opts["action"] == "train":
            self.train(opts)
        else:
            self.scan(opts)

    def plant(self, opts) -> None:
        """Plant double NIKs in a demo district."""
        try:
            planted = plant_duplicates(
                region=opts["region"], count=opts["count"], seed=opts["seed"]
            )
        except DedupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{len(planted)} NIK ganda ditanam di {opts['region']}.")

    def train(self, opts) -> None:
        """Train and store the demographic model of a scope."""
        try:
            model = services.train_model(
                scope=opts["region"], target_precision=opts["target_precision"]
            )
        except DedupError as error:
            raise CommandError(str(error)) from None
        measured = (
            f"presisi {model.measured_precision:.3f}, recall {model.measured_recall:.3f}"
            if model.measured_precision is not None and model.measured_recall is not None
            else "presisi dan recall belum terukur"
        )
        self.stdout.write(
            f"Model {model.scope} dilatih pada {model.records} penduduk dalam "
            f"{model.seconds:.1f} detik: ambang {model.threshold:.4f} dari {model.labels} "
            f"label adjudikasi ({measured})."
        )

    def scan(self, opts) -> None:
        """Scan the registry and open cases."""
        started = time.perf_counter()
        try:
            result = services.scan_registry(region=opts["region"])
        except DedupError as error:
            raise CommandError(str(error)) from None
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"{result.records} penduduk dipindai dalam {seconds:.1f} detik: "
            f"{len(result.pairs)} pasangan, {len(result.clusters)} kelompok, "
            f"{result.created} kasus baru."
        )
        phases = ", ".join(
            f"{PHASES.get(name, name)} {seconds:.1f} s" for name, seconds in result.timings.items()
        )
        self.stdout.write(f"Rincian waktu: {phases}.")


def _count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = -1
    if not 1 <= count <= 10_000:
        raise argparse.ArgumentTypeError(f"jumlah harus bilangan bulat 1–10000, diterima {value!r}")
    return count


def _precision(value: str) -> float:
    try:
        target = float(value)
    except ValueError:
        target = -1.0
    if not 0 < target <= 1:
        raise argparse.ArgumentTypeError(
            f"target presisi harus di antara 0 dan 1, diterima {value!r}"
        )
    return target
