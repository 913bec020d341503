"""Cursors for the few statements that run on every request of a busy public page.

Django talks to PostgreSQL through psycopg's client-side binding: the values are written
into the SQL text, so the server parses and plans each statement again (for the status
lookup, 0.3 ms of planning for 0.02 ms of work). A cursor from `prepared_cursor` binds
the values on the server instead, so that psycopg prepares the statement once it has run
`prepare_threshold` times on the connection (DATABASES OPTIONS, see settings) and the
server only executes it from then on. Where that setting is off (a transaction-pooling
proxy in front of PostgreSQL) or on SQLite, it is the usual cursor.

Only for statements written with this in mind: server-side binding needs every
parameter's type to follow from its place in the SQL.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper


def prepares_statements(connection: BaseDatabaseWrapper) -> bool:
    """Tell whether statements on this connection can be prepared on the server."""
    return (
        connection.vendor == "postgresql"
        and connection.settings_dict.get("OPTIONS", {}).get("prepare_threshold") is not None
    )


def prepared_cursor(connection: BaseDatabaseWrapper):
    """Return a cursor whose statements PostgreSQL prepares once per connection (see the
    module), with Django's error wrapping, execute wrappers and query logging; elsewhere
    connection.cursor()."""
    if not prepares_statements(connection):
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    connection.validate_thread_sharing()
    cursor = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)
