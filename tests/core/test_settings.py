"""Settings read from the environment: a DATABASE_URL may name SQLite as well as PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.core.test_ratelimit import HOST_OPTIONS

# What a fresh process makes of its settings: the engine, its options, the cache, and one
# statement through the connection.
REPORT = """
import json
import django
django.setup()
from django.conf import settings
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT 1")
    (one,) = cursor.fetchone()
    journal = None
    if connection.vendor == "sqlite":
        cursor.execute("PRAGMA journal_mode")
        (journal,) = cursor.fetchone()
print(json.dumps({
    "vendor": connection.vendor,
    "options": sorted(settings.DATABASES["default"].get("OPTIONS", {})),
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_options": settings.CACHES["default"].get("OPTIONS", {}),
    "one": one,
    "journal": journal,
}))
"""


def _environment(tmp_path, **changes) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "EKTP_"))}
    env.update(DJANGO_SETTINGS_MODULE="ektp.settings", EKTP_VAR_DIR=str(tmp_path / "var"))
    env.update(changes)
    return env


def test_a_sqlite_database_url_starts_like_the_default_sqlite(tmp_path):
    """prepare_threshold (a psycopg option) was given to SQLite, which refused to connect."""
    env = _environment(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/ektp.sqlite3")
    run = subprocess.run(
        [sys.executable, "-c", REPORT], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["vendor"] == "sqlite" and report["one"] == 1
    assert "prepare_threshold" not in report["options"]
    assert report["journal"] == "wal"  # the same PRAGMAs as the default database
    assert report["cache"] == "ektp.core.ratelimit.HostCache"  # the host cache, as by default
    # The options tests/core/test_ratelimit.py tries the host cache with.
    assert report["cache_options"] == HOST_OPTIONS
    check = subprocess.run(
        [sys.executable, "-m", "ektp", "check", "--database", "default"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr[-2000:]


def test_a_postgres_database_url_keeps_its_prepare_threshold(tmp_path):
    env = _environment(
        tmp_path, DATABASE_URL="postgres://nobody@127.0.0.1:1/none", EKTP_PG_PREPARE_THRESHOLD="7"
    )
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['OPTIONS']['prepare_threshold'], "
        "settings.CACHES['default']['BACKEND'])"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["7", "ektp.core.ratelimit.HostCache"]
