"""kill -9 of the task worker in the middle of a batch strands nothing and doubles nothing.

A real `ektp db_worker` process runs a batch of penunggalan checks (each PRR sends the
resident a notice) and notifications against a file SQLite database (the test database copied
out with SQLite's backup API, and back in afterwards), or against the PostgreSQL test database
when DATABASE_URL is set. The worker is killed with SIGKILL while a task is RUNNING, twice, and
started again; then every resident is decided once and every message is in the local outbox
(which journals each physical send) exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from ektp.core.models import Role
from ektp.enrollment.models import StatusChange
from ektp.notifications.models import Event, Message, MessageStatus
from ektp.notifications.services import notify
from ektp.residents.models import KtpStatus, Resident

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RESIDENTS = 10
EXTRA_MESSAGES = 20
KILLS = 2
DEADLINE = 240  # seconds for the whole run; a stuck batch fails the test instead of hanging
PHONE = "081234567890"


def _ektp() -> str:
    return str(Path(sys.executable).with_name("ektp"))


class Database:
    """Where the worker process finds the test's data: a SQLite file, or the PostgreSQL test DB."""

    def __init__(self, var_dir: Path) -> None:
        self.var_dir = var_dir
        self.sqlite = connection.vendor == "sqlite"
        self.file = var_dir / "ektp.sqlite3"

    def export(self) -> None:
        if self.sqlite:
            connection.ensure_connection()
            with sqlite3.connect(self.file) as target:
                connection.connection.backup(target)
            target.close()

    def bring_back(self) -> None:
        if self.sqlite:
            source = sqlite3.connect(self.file)
            try:
                source.backup(connection.connection)
            finally:
                source.close()

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        if not self.sqlite:
            s = connection.settings_dict
            auth = urllib.parse.quote(s["USER"] or "")
            if s["PASSWORD"]:
                auth += ":" + urllib.parse.quote(s["PASSWORD"])
            host = s["HOST"] or "127.0.0.1"
            env["DATABASE_URL"] = f"postgres://{auth}@{host}:{s['PORT'] or 5432}/{s['NAME']}"
        return env

    def task_counts(self) -> Counter:
        table = DBTaskResult._meta.db_table
        # The coverage counts' warm-up (queued once when the residents change) is not one of
        # the batch's tasks.
        sql = (
            f"SELECT status, COUNT(*) FROM {table} "
            "WHERE task_path NOT LIKE '%.warm_counts' GROUP BY status"
        )
        if self.sqlite:
            reader = sqlite3.connect(f"file:{self.file}?mode=ro", uri=True, timeout=30)
            try:
                rows = reader.execute(sql).fetchall()
            finally:
                reader.close()
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                rows = cursor.fetchall()
        return Counter(dict(rows))


def _start_worker(env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [_ektp(), "db_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _wait_for(what, condition, deadline: float, worker: subprocess.Popen | None = None):
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if worker is not None and worker.poll() is not None:
            raise AssertionError(f"worker exited ({worker.returncode}): {worker.stderr.read()}")
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _seed(make_staff) -> list[Resident]:
    from tests.dedup.factories import person, sent, subject

    operator = make_staff(Role.OPERATOR)
    residents = []
    for n in range(RESIDENTS):
        resident = person(phone=PHONE)
        sent(operator, resident, iris=subject(9000 + n))  # queues the penunggalan task
        residents.append(resident)
    for n in range(EXTRA_MESSAGES):
        notify(
            event=Event.PRINTING_DEFERRED,
            resident=residents[n % RESIDENTS],
            context={"reason": f"uji kerusakan pekerja {n}"},
            dedup_key=f"chaos:{n}",
            channels=["whatsapp"],
        )
    return residents


def test_worker_killed_mid_batch_twice_leaves_every_task_done_exactly_once(
    make_staff, settings, tmp_path
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.NOTIFICATIONS_DEFAULT_CHANNELS = ["whatsapp"]
    settings.NOTIFICATION_BACKENDS = {"whatsapp": "local"}
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    residents = _seed(make_staff)
    database = Database(var_dir)
    database.export()
    # A check per resident, its "recorded" notice, and the other notices.
    assert database.task_counts()[TaskResultStatus.READY] == 2 * RESIDENTS + EXTRA_MESSAGES

    env = database.env() | {
        "EKTP_VAR_DIR": str(var_dir),
        # The install's keys: the worker decrypts the biometrics this process stored.
        "EKTP_KEY_DIR": str(settings.EKTP_KEY_DIR),
        "ABIS_URL": "",
        "ABIS_DATA_DIR": str(tmp_path / "abis"),
        "EKTP_NOTIFY_CHANNELS": "whatsapp",
        "EKTP_WHATSAPP_BACKEND": "local",
        "EKTP_TASK_BACKEND": "django_tasks_db.DatabaseBackend",
        "EKTP_WORKER_HEARTBEAT_SECONDS": "0.3",
        "EKTP_WORKER_GONE_AFTER_SECONDS": "1.5",
        "EKTP_TASK_RECLAIM_AFTER_SECONDS": "0.5",
        "EKTP_TASK_MAX_RUNS": "10",
        "EKTP_LOG_LEVEL": "WARNING",
    }
    deadline = time.monotonic() + DEADLINE
    stranded = 0
    worker = None
    try:
        for _ in range(KILLS):
            worker = _start_worker(env, tmp_path)
            done_before = database.task_counts()[TaskResultStatus.SUCCESSFUL]
            _wait_for(
                "a task running after some finished",
                lambda done_before=done_before: (
                    (counts := database.task_counts())[TaskResultStatus.SUCCESSFUL]
                    >= done_before + 2
                    and counts[TaskResultStatus.RUNNING] > 0
                ),
                deadline,
                worker,
            )
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
            worker.stderr.close()
            stranded += database.task_counts()[TaskResultStatus.RUNNING]
            time.sleep(1.6)  # the dead worker's heartbeat grows older than the limit
        assert stranded >= 1, "the kills never left a task RUNNING: nothing was tested"

        worker = _start_worker(env, tmp_path)
        _wait_for(
            "the batch to finish",
            lambda: (
                (counts := database.task_counts())[TaskResultStatus.READY] == 0
                and counts[TaskResultStatus.RUNNING] == 0
            ),
            deadline,
            worker,
        )
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        if worker is not None and worker.stderr and not worker.stderr.closed:
            worker.stderr.close()
    database.bring_back()

    counts = database.task_counts()
    assert counts[TaskResultStatus.FAILED] == 0, counts

    # Each resident was decided exactly once.
    for resident in residents:
        resident.refresh_from_db()
        assert resident.ktp_status != KtpStatus.SENT_FOR_ENROLLMENT
        decisions = StatusChange.objects.filter(
            resident=resident, from_status=KtpStatus.SENT_FOR_ENROLLMENT
        )
        assert decisions.count() == 1, resident.nik

    # Each message left exactly once: one journal line per sent message, none twice.
    messages = list(Message.objects.all())
    outcomes = Counter(r.ktp_status for r in residents)
    assert len(messages) == 2 * RESIDENTS + EXTRA_MESSAGES, (
        outcomes,
        Counter(m.event for m in messages),
    )
    assert {m.status for m in messages} == {MessageStatus.SENT}
    journal = (var_dir / "outbox" / "whatsapp.jsonl").read_text().splitlines()
    keys = Counter(json.loads(line)["idempotency_key"] for line in journal)
    assert keys == Counter({m.idempotency_key: 1 for m in messages})
