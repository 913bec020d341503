"""The throwaway database a benchmark runs on: a fresh PostgreSQL database or SQLite."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# `python bench/x.py` puts bench/ first on sys.path, where coverage.py (the benchmark) would
# shadow the coverage package that numba imports: scripts import this helper first, and it
# takes bench/ off the path once loaded.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]


def _admin_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def use_fresh_database(name: str) -> bool:
    """Point DATABASE_URL at a new, empty PostgreSQL database `name` when DATABASE_URL
    names a PostgreSQL server, or unset it for SQLite; return whether it is PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        os.environ.pop("DATABASE_URL", None)
        return False
    import psycopg

    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    return True


def drop_database(name: str) -> None:
    """Drop the PostgreSQL database `name` made by use_fresh_database."""
    import psycopg

    with psycopg.connect(_admin_url(os.environ["DATABASE_URL"]), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def use_database(name: str, *, fresh: bool) -> None:
    """Point DATABASE_URL (a PostgreSQL server) at database `name`: a new, empty one when
    `fresh`, else the one kept from an earlier run (created empty when missing)."""
    if fresh:
        use_fresh_database(name)
        return
    import psycopg

    url = os.environ["DATABASE_URL"]
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def migrated_django(name: str) -> None:
    """Set Django up on a fresh database `name` (see use_fresh_database), migrated and with the
    regions loaded. The caller sets EKTP_VAR_DIR first (where SQLite keeps its file)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ektp.settings")
    use_fresh_database(name)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("regions", "load", stdout=quiet)
