"""On a SQLite file, the counting writes of all threads and processes take turns (write_turn)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection, connections, router, transaction
from django.test import override_settings

from ektp.portal import cache as cache_module
from ektp.portal.cache import DatabaseCache, turn_path, write_turn

ALIAS = "counters_on_file"
WINDOW = [("turn-ip", 3600, 100)]

# Tries the lock from another process: exit code 0 when it could take it at once.
PROBE = (
    "import fcntl, os, sys\n"
    "fd = os.open(sys.argv[1], os.O_RDWR)\n"
    "try:\n"
    "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
    "except BlockingIOError:\n"
    "    sys.exit(3)\n"
)


@pytest.fixture
def on_file(django_db_blocker, tmp_path, monkeypatch):
    """The cache's counters on a SQLite file, as a district server keeps them (the test
    database is SQLite in memory or PostgreSQL, where no turn is taken). Nothing here touches
    the test database, and its test case would refuse an alias it did not set up, so the
    file is opened outside of one."""
    template = connections.settings["default"]
    connections.settings[ALIAS] = {
        **template,
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(tmp_path / "counters.sqlite3"),
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 30},
    }
    monkeypatch.setattr(router, "db_for_write", lambda model, **hints: ALIAS)
    counters = {"default": {"BACKEND": "ektp.portal.cache.DatabaseCache", "LOCATION": "ektp_cache"}}
    with django_db_blocker.unblock(), override_settings(CACHES=counters):
        call_command("createcachetable", database=ALIAS, verbosity=0)
        cache = caches.create_connection("default")
        assert isinstance(cache, DatabaseCache)
        yield cache
        connections[ALIAS].close()
    del connections[ALIAS]
    del connections.settings[ALIAS]


def _in_thread(work) -> threading.Thread:
    def run():
        try:
            work()
        finally:
            connections[ALIAS].close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _hold_the_turn() -> tuple[threading.Event, threading.Event]:
    holding, release = threading.Event(), threading.Event()

    def hold():
        with write_turn(connections[ALIAS]):
            holding.set()
            release.wait(30)

    _in_thread(hold)
    assert holding.wait(10)
    return holding, release


def test_a_counting_write_waits_while_another_thread_holds_the_turn(on_file):
    _holding, release = _hold_the_turn()
    counted, done = [], threading.Event()

    def count():
        counted.append(on_file.count_hits(WINDOW))
        done.set()

    _in_thread(count)
    try:
        assert not done.wait(0.5), "the count did not wait for its turn"
    finally:
        release.set()
    assert done.wait(10)
    assert counted == [[1]]
    assert on_file.count_hits(WINDOW) == [2]


def test_the_turn_is_held_against_another_process(on_file):
    path = turn_path(connections[ALIAS])
    assert path == f"{connections.settings[ALIAS]['NAME']}.writers"
    with write_turn(connections[ALIAS]):
        assert Path(path).exists()
        taken = subprocess.run([sys.executable, "-c", PROBE, path], timeout=30)
        assert taken.returncode == 3
    free = subprocess.run([sys.executable, "-c", PROBE, path], timeout=30)
    assert free.returncode == 0


def test_inside_a_transaction_the_count_takes_no_turn(on_file):
    """SQLite already holds the transaction's write lock: waiting for the turn there could
    keep every other writer waiting on a lock this one holds."""
    _holding, release = _hold_the_turn()
    try:
        with transaction.atomic(using=ALIAS):
            assert on_file.count_hits(WINDOW) == [1]
    finally:
        release.set()


@pytest.mark.django_db
def test_no_turn_where_there_is_nothing_to_order(monkeypatch):
    # The test database: SQLite in memory (one process), or PostgreSQL (row locks).
    assert turn_path(connection) is None
    monkeypatch.setattr(cache_module, "fcntl", None)
    template = {**connections.settings["default"], "ENGINE": "django.db.backends.sqlite3"}
    connections.settings[ALIAS] = {**template, "NAME": "/tmp/not-used.sqlite3", "OPTIONS": {}}
    try:
        assert turn_path(connections[ALIAS]) is None
    finally:
        del connections[ALIAS]
        del connections.settings[ALIAS]
