"""`ektp regions load|plan|apply|diff`: shipped regions and region change decrees."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ektp.core.models import User
from ektp.regions.changeset import ChangeSetInvalid
from ektp.regions.diff import diff_snapshots, read_snapshot, to_yaml
from ektp.regions.services import apply_change_set, load_regions, plan_change_set


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"Berkas {path} tidak dapat dibaca: {exc}") from exc


class Command(BaseCommand):
    help = (
        "Wilayah: load (muat data Kemendagri yang dibawa paket), plan/apply BERKAS (pratinjau / "
        "terapkan keputusan perubahan wilayah), diff LAMA BARU (usulan perubahan dari dua edisi)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("load", help="Muat data wilayah yang dibawa paket (aman berulang).")
        plan = sub.add_parser("plan", help="Pratinjau dampak sebuah berkas perubahan wilayah.")
        plan.add_argument("changeset")
        apply = sub.add_parser("apply", help="Terapkan berkas perubahan wilayah (satu transaksi).")
        apply.add_argument("changeset")
        apply.add_argument("--user", required=True, help="Nama pengguna yang menerapkan.")
        diff = sub.add_parser("diff", help="Usulkan perubahan dari dua edisi kode wilayah.")
        diff.add_argument("old", help="2020, 2025 (edisi bawaan) atau berkas .tsv[.gz]/.sql")
        diff.add_argument("new")
        diff.add_argument("--output", "-o", help="Tulis usulan YAML ke berkas ini.")
        diff.add_argument("--number", default="USULAN", help="Nomor keputusan di usulan.")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "load":
            result = load_regions()
            self.stdout.write(
                f"Wilayah: {result.created} baru, {result.updated} diperbarui, "
                f"{result.unchanged} tetap."
            )
        elif action == "plan":
            try:
                impact = plan_change_set(text=_read(options["changeset"]))
            except ChangeSetInvalid as exc:
                raise CommandError(exc.message) from exc
            self._impact(impact)
        elif action == "apply":
            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"Pengguna {options['user']} tidak ada atau tidak aktif.")
            try:
                result = apply_change_set(text=_read(options["changeset"]), actor=user)
            except ChangeSetInvalid as exc:
                raise CommandError(exc.message) from exc
            if not result.applied:
                self.stdout.write(
                    f"Keputusan {result.change_set.number} sudah diterapkan "
                    f"{result.change_set.applied_at:%d-%m-%Y %H:%M}; tidak ada yang diubah."
                )
                return
            s = result.change_set.summary
            self.stdout.write(
                f"Keputusan {result.change_set.number} diterapkan: {s['residents_moving']} "
                f"penduduk pindah desa, {s['residents_renamed']} berganti nama wilayah, "
                f"{s['kk_reissued']} KK diterbitkan ulang, {s['reprints_queued']} cetak ulang "
                f"KTP-el diantrekan ({s['reprints_already_open']} sudah punya permohonan, "
                f"{s['reprints_without_office']} tanpa kantor)."
            )
        else:
            old, new = read_snapshot(options["old"]), read_snapshot(options["new"])
            proposal = diff_snapshots(old, new)
            text = to_yaml(proposal, number=options["number"])
            if options.get("output"):
                Path(options["output"]).write_text(text, encoding="utf-8")
            else:
                self.stdout.write(text)
            for line in proposal.summary_lines():
                self.stderr.write(line)

    def _impact(self, impact):
        w = self.stdout.write
        if impact.already_applied:
            w(
                f"Keputusan {impact.number} sudah diterapkan dari berkas yang sama; tidak ada dampak."
            )
            return
        w(f"Keputusan {impact.number}, berlaku {impact.effective_on:%d-%m-%Y}")
        w("Operasi: " + ", ".join(f"{op} {n}" for op, n in sorted(impact.operations.items())))
        w("Wilayah terdampak:")
        for line, op, old, new in impact.regions:
            w(f"  baris {line}: {op} {old or '-'} -> {new or '-'}")
        w(f"Penduduk pindah desa: {impact.residents_moving} ({impact.families_moving} keluarga)")
        for line, source, target, n, f in impact.moves:
            w(f"  baris {line}: {source} -> {target}: {n} penduduk, {f} keluarga")
        w(
            f"Alamat berganti nama wilayah: {impact.residents_renamed} penduduk "
            f"({impact.families_renamed} keluarga)"
        )
        w(
            f"KTP-el dicetak ulang: {impact.reprints} (sudah punya permohonan terbuka: "
            f"{impact.reprints_already_open})"
        )
        for b in impact.blanks:
            w(
                f"  {b.kabkota} {b.office}: stok {b.on_hand}, PRR menunggu {b.prr_waiting}, "
                f"cetak ulang {b.reprints}, kekurangan {b.shortfall}"
            )
        if impact.targets:
            w("Target cakupan yang berubah dasar hitungnya:")
            for name, code, before, after in impact.targets:
                w(f"  {name} ({code}): wajib KTP {before} -> {after}")
