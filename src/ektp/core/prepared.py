"""Cursors for the few statements that run on every request of a busy public page.

Django talks to PostgreSQL through psycopg's client-side binding: the values are written
into the SQL text, so the server parses and plans each statement again (for the status
lookup, 0.3 ms of planning for 0.02 ms of work). A cursor from `prepared_cursor` binds
the values on the server instead, so that psycopg prepares the statement once it has run
`prepare_threshold` times on the connection (DATABASES OPTIONS, see settings) and the
server only executes it from then on. Where that setting is off (a transaction-pooling
proxy in front of PostgreSQL) or on SQLite, it is the usual cursor.

On SQLite the cursor is SQLite's own, wrapped by Django as usual but without its
translation of every statement from Django's %s placeholders to SQLite's ? (a regular
expression over the whole text, on every run: for the status lookup it cost more than
SQLite's own work). `statement` translates a statement once, and callers keep what it
returns.

Only for statements written with this in mind: server-side binding needs every
parameter's type to follow from its place in the SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper


def prepares_statements(connection: BaseDatabaseWrapper) -> bool:
    """Tell whether statements on this connection can be prepared on the server."""
    return (
        connection.vendor == "postgresql"
        and connection.settings_dict.get("OPTIONS", {}).get("prepare_threshold") is not None
    )


def statement(connection: BaseDatabaseWrapper, sql: str) -> str:
    """Return a statement written with Django's %s placeholders as a cursor of
    prepared_cursor takes it: on SQLite with ? (as Django's SQLite cursor writes it on every
    run), elsewhere unchanged."""
    if connection.vendor != "sqlite":
        return sql
    from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

    return FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")


def prepared_cursor(connection: BaseDatabaseWrapper):
    """Return a cursor whose statements PostgreSQL prepares once per connection, or SQLite's
    own cursor (see the module), with Django's error wrapping, execute wrappers and query
    logging; elsewhere connection.cursor(). Its statements come from `statement`."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.validate_thread_sharing()
        cursor = connection.connection.cursor()
    elif prepares_statements(connection):
        import psycopg

        connection.ensure_connection()
        connection.validate_thread_sharing()
        cursor = psycopg.Cursor(connection.connection)
    else:
        return connection.cursor()
    if connection.queries_logged:
        if connection.vendor == "sqlite":
            return _SqliteDebugCursor(cursor, connection)
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


class _SqliteDebugCursor(CursorDebugWrapper):
    """Django's debug cursor (DEBUG, or a test counting queries) for statements already in
    SQLite's ? form: it logs them as they were sent. Django's SQLite backend would write the
    values into a statement with %s placeholders, and fails on one without."""

    def debug_sql(self, sql=None, params=None, use_last_executed_query=False, many=False):
        return super().debug_sql(sql, params, use_last_executed_query=False, many=many)


@dataclass(frozen=True)
class Read:
    """A read of at most one row: a statement from `statement`, its values, its database.

    Whoever runs it may run it inside a larger statement (see portal.cache: counting the
    tries of an inquiry and reading its answer in one round trip), so it must be one
    SELECT that can stand as a subquery, without a trailing semicolon.
    """

    sql: str
    params: Sequence
    using: str = DEFAULT_DB_ALIAS


def fetch_one(read: Read) -> tuple | None:
    """Run a Read on a cursor of prepared_cursor and return its row, or None."""
    with prepared_cursor(connections[read.using]) as cursor:
        cursor.execute(read.sql, read.params)
        return cursor.fetchone()
