"""`ektp daily`: the jobs a cron or systemd timer runs, each safe to repeat.

Tasks left RUNNING by a dead worker taken up again, recordings stuck in SFE with no task sent
to penunggalan again, packets from edge units received but not processed,
coverage snapshots (one row per region per day), tomorrow's booking
reminders (once per booking) and due notification retries (sends left in doubt settled
first). `make demo` runs it every hour beside the worker.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand


def reclaim_tasks(command: BaseCommand) -> None:
    from ektp.core.worker import reclaim_stale_tasks

    reclaimed = reclaim_stale_tasks()
    command.stdout.write(
        f"{len(reclaimed.requeued)} tugas yang ditinggalkan pekerja diambil lagi, "
        f"{len(reclaimed.failed)} dihentikan."
    )


def requeue_stuck(command: BaseCommand) -> None:
    from ektp.dedup.services import requeue_all_stuck

    command.stdout.write(
        f"{requeue_all_stuck()} rekaman yang tertahan menunggu penunggalan dikirim ulang."
    )


def process_packets(command: BaseCommand) -> None:
    from ektp.sync.tasks import process_received_packets

    command.stdout.write(
        f"{process_received_packets.call()} paket dari unit lapangan yang tertahan diproses."
    )


class Command(BaseCommand):
    help = (
        "Jalankan tugas harian: ambil lagi tugas yang ditinggalkan pekerja, kirim ulang rekaman "
        "tertahan, proses paket unit lapangan, snapshot cakupan, pengingat janji besok, kirim ulang pesan."
    )

    JOBS = [
        ("tasks reclaim", reclaim_tasks),
        ("penunggalan stuck", requeue_stuck),
        ("sync packets", process_packets),
        ("coverage snapshot", ["coverage", "snapshot"]),
        ("appointments remind", ["appointments", "remind"]),
        ("notifications retry", ["notifications", "retry"]),
    ]

    def handle(self, *args, **opts):
        failed = 0
        for name, job in self.JOBS:
            try:
                if callable(job):
                    job(self)
                else:
                    call_command(*job, stdout=self.stdout, stderr=self.stderr)
            except Exception as exc:  # one job's failure must not stop the others
                failed += 1
                self.stderr.write(f"{name} gagal: {exc}")
        if failed:
            raise SystemExit(1)
