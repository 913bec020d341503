"""`ektp serve`: granian runs the WSGI app, one worker per core, one Python thread each."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from email.message import Message
from pathlib import Path
from urllib.parse import quote

import granian
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from granian.constants import Interfaces
from granian.log import LogLevels

from ektp.core.management.commands import serve


class UnstartedGranian:
    """granian's server as `ektp serve` builds it, recorded instead of started."""

    built: list[UnstartedGranian] = []

    def __init__(self, target, **options):
        self.target, self.options, self.served = target, options, False
        self.built.append(self)

    def serve(self):
        self.served = True


@pytest.fixture
def built(monkeypatch) -> list[UnstartedGranian]:
    monkeypatch.setattr(granian, "Granian", UnstartedGranian)
    UnstartedGranian.built = []
    return UnstartedGranian.built


def test_defaults_are_one_worker_per_core_and_one_python_thread():
    options = serve.Command().create_parser("ektp", "serve").parse_args([])
    assert options.host == "127.0.0.1"
    assert options.port == 8000
    assert options.workers == serve.cpu_cores() >= 1
    assert options.blocking_threads == 1
    assert options.backlog == 1024
    assert options.log_level == "info"
    assert options.access_log is False
    assert options.graceful_timeout == 10


def test_serve_runs_the_wsgi_app_under_granian_with_the_defaults(built):
    call_command("serve")
    [server] = built
    assert server.served
    assert server.target == "ektp.wsgi:application"
    assert server.options["interface"] == Interfaces.WSGI
    assert (server.options["address"], server.options["port"]) == ("127.0.0.1", 8000)
    assert server.options["workers"] == serve.cpu_cores()
    assert server.options["blocking_threads"] == 1
    assert server.options["workers_kill_timeout"] == 10
    assert server.options["respawn_failed_workers"] is True


def test_serve_passes_the_given_options_to_granian(built):
    call_command(
        "serve",
        "--host=0.0.0.0",
        "--port=8123",
        "--workers=3",
        "--blocking-threads=2",
        "--backlog=2048",
        "--log-level=warning",
        "--access-log",
        "--graceful-timeout=30",
    )
    [server] = built
    options = server.options
    assert (options["address"], options["port"], options["backlog"]) == ("0.0.0.0", 8123, 2048)
    assert (options["workers"], options["blocking_threads"]) == (3, 2)
    assert options["log_level"] == LogLevels.warning
    assert options["log_access"] is True
    assert options["workers_kill_timeout"] == 30


@pytest.mark.parametrize(
    "argument",
    [
        "--workers=0",
        "--blocking-threads=0",
        "--graceful-timeout=0",
        "--port=0",
        "--port=70000",
        "--backlog=10",
        "--log-level=verbose",
    ],
)
def test_serve_refuses_settings_it_cannot_run_with(built, argument):
    with pytest.raises(CommandError):
        call_command("serve", argument)
    assert built == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_for_a_server(var_dir: Path) -> dict[str, str]:
    """Environment that gives a server process the migrated test database: a copy of it
    on SQLite (the test database lives in memory), the test database itself on PostgreSQL.

    The test must not run in a transaction: on SQLite a pending write (the emptied cache
    table) keeps the backup waiting forever, on PostgreSQL the server could not see it."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        copy = sqlite3.connect(var_dir / "ektp.sqlite3")
        try:
            connection.connection.backup(copy)
        finally:
            copy.close()
        return {}
    db = connection.settings_dict
    login = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        login += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
    return {"DATABASE_URL": f"postgres://{login}@{host}/{db['NAME']}"}


def get(url: str) -> tuple[int, Message, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers, response.read().decode()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_ektp_serve_answers_the_status_page_in_bahasa_indonesia(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="ektp.settings",
        EKTP_VAR_DIR=str(tmp_path),
        **database_for_a_server(tmp_path),
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "ektp", "serve", f"--port={port}", "--workers=1"]
    with log.open("w") as output:
        # Its own process group, so that the workers go with it whatever happens.
        server = subprocess.Popen(
            [*command, "--graceful-timeout=3"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, headers, page = get(f"{base}/cek/")
                break
            except OSError:
                assert server.poll() is None, f"ektp serve stopped:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"no answer in 60 s:\n{log.read_text()}"
                time.sleep(0.2)
        assert status == 200
        assert headers["Server"] == "granian"
        assert "Cek status KTP-el" in page
        assert "Masukkan NIK dan tanggal lahir" in page
        css_status, css_headers, _css = get(f"{base}/static/portal/portal.css")
        assert css_status == 200
        assert css_headers["Content-Type"].startswith("text/css")
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        except ProcessLookupError:
            server.wait()
    assert server.returncode == 0, log.read_text()
