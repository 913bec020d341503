"""Statements of the busy public page are planned once per connection on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection

from ektp.core.prepared import prepared_cursor, prepares_statements

pytestmark = pytest.mark.django_db

STATEMENT = "SELECT COUNT(*) FROM residents_resident WHERE nik = %s AND birth_date >= %s"


def _prepared_here() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgres
def test_a_statement_run_often_is_prepared_on_the_server():
    assert prepares_statements(connection)
    for _ in range(6):
        with prepared_cursor(connection) as cursor:
            cursor.execute(STATEMENT, ["1809015705900001", "1990-01-01"])
            assert cursor.fetchone() == (0,)
    assert any("nik = $1" in text for text in _prepared_here())


@pytest.mark.postgres
def test_database_errors_keep_their_django_class():
    from django.db import ProgrammingError, transaction

    with pytest.raises(ProgrammingError), transaction.atomic(), prepared_cursor(connection) as c:
        c.execute("SELECT no_such_column FROM residents_resident WHERE nik = %s", ["1"])


def test_without_prepared_statements_it_is_the_usual_cursor(settings):
    if connection.vendor == "postgresql":
        options = connection.settings_dict.setdefault("OPTIONS", {})
        saved = options.pop("prepare_threshold", None)
        try:
            assert not prepares_statements(connection)
        finally:
            if saved is not None:
                options["prepare_threshold"] = saved
    else:
        assert not prepares_statements(connection)
    with prepared_cursor(connection) as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
