"""`kill -9` of the server in the middle of a burst of card prints, as it broke once.

A real `ektp serve` (granian, two workers) on a loopback port prints through the HTTP API
on a printer that journals every card it puts out. The server is killed the moment a card
comes out, while another may be on the printer; it is started again, the office settles
the stopped prints on the reconciliation API as it finds them at the printer, and prints
the rest. Then the cards in the journal must be exactly the cards in the ledger: physical
prints = blanks used + spoiled, no serial printed twice, no resident with two cards, no
blank back in stock without someone saying so.

On SQLite the server works on a file copy of the test database, which is copied back for
the checks; on PostgreSQL (DATABASE_URL) it works on the test database itself.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from http.client import HTTPException
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.db import connection

from ektp.cards import services
from ektp.cards.models import Blank, CardPolicy, CardPrint, LedgerEntry, PrintReservation
from ektp.core.models import Role
from ektp.core.services import issue_api_token
from ektp.residents.models import KtpStatus, Resident
from tests.cards.factories import (
    OfficeFactory,
    PrinterDeviceFactory,
    PrrResidentFactory,
    ServicePointFactory,
)
from tests.core.test_serve import database_for_a_server, free_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RESIDENTS = 24
BLANKS = 40
FIRST_SERIAL = 180926000001
CLIENTS = 6
# Journal lines before the kill: the last card has just come out and is not yet confirmed.
KILL_AFTER_CARDS = 4
SECONDS_PER_CARD = 2.0  # the card comes out half-way (see JournalPrinter)
START_TIMEOUT = 90
REQUEST_TIMEOUT = 60
BURST_TIMEOUT = 300


def take_back_the_database(var_dir: Path) -> None:
    """Read what the server wrote: on SQLite, copy its file over the in-memory test database."""
    if connection.vendor != "sqlite":
        return
    connection.ensure_connection()
    served = sqlite3.connect(var_dir / "ektp.sqlite3")
    try:
        served.backup(connection.connection)
    finally:
        served.close()


def read_journal(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Server:
    """`ektp serve` in its own process group on a loopback port."""

    def __init__(self, var_dir: Path, env: dict[str, str], token: str):
        self.var_dir, self.env, self.token = var_dir, env, token
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1/cards"
        self.log = var_dir / f"serve-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self, *, seconds_per_card: float) -> Server:
        env = {**self.env, "EKTP_CARD_PRINTER_DELAY": str(seconds_per_card)}
        command = [sys.executable, "-m", "ektp", "serve", f"--port={self.port}", "--workers=2"]
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                [*command, "--graceful-timeout=3"],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the workers go with it whatever happens
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                status, _ = self.call("GET", "/reservations", query={"kab": "18.09"}, timeout=5)
                if status == 200:
                    return self
            except (OSError, HTTPException):
                pass
            assert self.process.poll() is None, f"ektp serve stopped:\n{self.log.read_text()}"
            assert time.monotonic() < deadline, f"no answer in time:\n{self.log.read_text()}"
            time.sleep(0.2)

    def call(self, method: str, path: str, *, body=None, query=None, timeout=REQUEST_TIMEOUT):
        url = self.base + path + (f"?{urlencode(query)}" if query else "")
        request = urllib.request.Request(
            url,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def kill_9(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        except ProcessLookupError:
            self.process.wait(timeout=30)


def burst(server: Server, niks: list[str], point_id: str, stop: threading.Event) -> list:
    """Print for these residents from CLIENTS threads at once until done or `stop`."""
    todo = list(niks)
    lock = threading.Lock()
    answers: list = []

    def client():
        while not stop.is_set():
            with lock:
                if not todo:
                    return
                nik = todo.pop(0)
            try:
                answers.append(server.call("POST", "/print", body={"point": point_id, "nik": nik}))
            except (OSError, HTTPException) as exc:  # the server died under this request
                answers.append(("cut", repr(exc)))

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=BURST_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a client thread did not finish"
    return answers


def test_kill_9_mid_print_burst_then_reconcile_keeps_the_ledger_equal_to_the_cards(
    tmp_path, make_staff
):
    office = OfficeFactory()
    point = ServicePointFactory(office=office, code="UPT001", name="UPT Gedong Tataan")
    PrinterDeviceFactory(service_point=point)
    CardPolicy.objects.create(office=office, lead_time_days=1)  # no rationing in the way
    supervisor = make_staff(Role.SUPERVISOR)
    operator = make_staff(Role.OPERATOR)
    services.receive_blanks(
        office=office,
        serial_first=str(FIRST_SERIAL),
        serial_last=str(FIRST_SERIAL + BLANKS - 1),
        source=LedgerEntry.Source.MINISTRY,
        reference="B-CHAOS/2026",
        actor=supervisor,
    )
    services.transfer_blanks(
        office=office, from_point=None, to_point=point, quantity=BLANKS, actor=supervisor
    )
    niks = [PrrResidentFactory().nik for _ in range(RESIDENTS)]
    token = issue_api_token(user=operator, name="chaos")
    journal = tmp_path / "printer-journal.log"
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="ektp.settings",
        EKTP_VAR_DIR=str(tmp_path),
        EKTP_CARD_PRINTER="ektp.cards.printers.JournalPrinter",
        EKTP_CARD_PRINTER_JOURNAL=str(journal),
        **database_for_a_server(tmp_path),
    )
    point_id = str(point.pk)

    first = Server(tmp_path, env, token)
    second = Server(tmp_path, env, token)
    try:
        first.start(seconds_per_card=SECONDS_PER_CARD)
        killed = threading.Event()
        answers: list = []
        printing = threading.Thread(
            target=lambda: answers.extend(burst(first, niks, point_id, killed))
        )
        printing.start()
        deadline = time.monotonic() + 120
        while len(read_journal(journal)) < KILL_AFTER_CARDS:
            assert printing.is_alive(), f"the burst ended before the kill: {answers}"
            assert time.monotonic() < deadline, first.log.read_text()
            time.sleep(0.01)
        killed.set()  # no new requests; those under way are cut by the kill
        first.kill_9()
        printing.join(timeout=REQUEST_TIMEOUT + 30)
        assert not printing.is_alive()
        assert any(a[0] == "cut" for a in answers), answers

        second.start(seconds_per_card=0.05)
        status, stranded = second.call("GET", "/reservations", query={"kab": "18.09"})
        assert status == 200
        # The card that had just come out is among them: its job died before confirming.
        assert stranded, "no print was cut off by the kill"
        assert all(r["awaiting_reconciliation"] for r in stranded), stranded
        came_out = {line["serial"] for line in read_journal(journal)}
        outcomes = Counter()
        for reservation in stranded:
            # What the operator finds at the printer: a card, or the blank still untouched.
            if reservation["serial"] in came_out:
                body = {"outcome": "printed", "note": "Kartu ada di baki keluaran"}
            else:
                body = {"outcome": "not_printed", "note": "Blangko masih utuh di printer"}
            status, settled = second.call(
                "POST", f"/reservations/{reservation['id']}/reconcile", body=body
            )
            assert status == 200, settled
            outcomes[settled["status"]] += 1
        assert outcomes["printed"] >= 1, outcomes
        status, left = second.call("GET", "/reservations", query={"kab": "18.09"})
        assert (status, left) == (200, [])

        status, queue = second.call(
            "GET", "/queue", query={"kab": "18.09", "point": point_id, "limit": 200}
        )
        assert status == 200
        waiting = [item["nik"] for item in queue["items"]]
        rest = burst(second, waiting, point_id, threading.Event())
        assert [a[0] for a in rest] == [201] * len(waiting), rest
        second.stop()
    finally:
        first.stop()
        second.stop()

    take_back_the_database(tmp_path)
    lines = read_journal(journal)
    serials = [line["serial"] for line in lines]
    printed_niks = [line["nik"] for line in lines]
    used = Blank.objects.filter(state=Blank.State.USED).count()
    spoiled = Blank.objects.filter(state=Blank.State.SPOILED).count()
    assert len(lines) == used + spoiled
    assert len(serials) == len(set(serials)), "a serial was printed twice"
    assert len(printed_niks) == len(set(printed_niks)), "a resident got two cards"
    cards = {(c.blank.serial, c.resident.nik) for c in CardPrint.objects.select_related("blank")}
    assert cards == {(line["serial"], line["nik"]) for line in lines}
    holders = Counter(CardPrint.objects.filter(voided_at__isnull=True).values_list("resident"))
    assert max(holders.values()) == 1
    assert sorted(set(printed_niks)) == sorted(niks)
    assert set(Resident.objects.values_list("ktp_status", flat=True)) == {KtpStatus.CARD_PRINTED}
    consumed = LedgerEntry.objects.filter(kind="consumption").values_list(
        "lines__blank__serial", flat=True
    )
    assert sorted(consumed) == sorted(serials)
    # Nothing is left on a printer, and no blank went back to stock unless someone said so.
    assert not Blank.objects.filter(state=Blank.State.PRINTING).exists()
    assert not PrintReservation.objects.filter(status="printing").exists()
    in_stock = Blank.objects.filter(state=Blank.State.IN_STOCK)
    assert in_stock.count() == BLANKS - used - spoiled
    for reservation in PrintReservation.objects.filter(blank__in=in_stock):
        assert reservation.status == "not_printed"
        assert reservation.reconciled and reservation.resolved_by_id == operator.pk
        assert reservation.note == "Blangko masih utuh di printer"
