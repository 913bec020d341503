"""Fast bulk insert for seeding and imports: no ORM compile, COPY on PostgreSQL.

Django's bulk_create compiles SQL and prepares every value through the field for each
batch, which dominates the cost of seeding half a million rows. Here each column gets
one converter chosen once from its field type, and rows go to the driver as tuples:
through COPY … FROM STDIN on PostgreSQL, one prepared INSERT with executemany elsewhere.
Rows are unsaved model instances or mappings of column attribute name → value (cheaper
to build); a mapping that leaves a column out gets the field's default, computed once
(so a callable default such as uuid4 must be given in the row), and auto_now fields get
the insert time. Constraints still hold: the database checks every row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, models
from django.utils import timezone


def _converter(field: models.Field) -> Callable[[Any], Any]:
    target = field.target_field if field.is_relation else field
    sqlite = connection.vendor == "sqlite"
    if isinstance(target, models.UUIDField):
        return (lambda v: v.hex if isinstance(v, uuid.UUID) else v) if sqlite else (lambda v: v)
    if isinstance(target, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(target, models.DateField):
        return (lambda v: None if v is None else v.isoformat()) if sqlite else (lambda v: v)
    if isinstance(target, models.JSONField):
        return lambda v: target.get_db_prep_save(v, connection)
    return lambda v: v


def _tuples(
    fields: list[models.Field], objs: Sequence[models.Model | Mapping[str, Any]]
) -> list[tuple]:
    now = timezone.now()
    stamped = {
        f.attname
        for f in fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    convert = [_converter(f) for f in fields]
    if isinstance(objs[0], Mapping):
        defaults = {f.attname: now if f.attname in stamped else f.get_default() for f in fields}
        pairs = list(zip([f.attname for f in fields], convert, strict=True))
        return [
            tuple(c(now if a in stamped else row.get(a, defaults[a])) for a, c in pairs)
            for row in objs
        ]
    for obj in objs:
        for name in stamped:
            setattr(obj, name, now)
    pairs = list(zip([f.attname for f in fields], convert, strict=True))
    return [tuple(c(getattr(o, a)) for a, c in pairs) for o in objs]


def insert_rows(
    model: type[models.Model],
    objs: Sequence[models.Model | Mapping[str, Any]],
    *,
    batch_size: int = 5000,
) -> int:
    """Insert unsaved instances or row mappings; return the number of rows written."""
    if not objs:
        return 0
    fields = list(model._meta.concrete_fields)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for start in range(0, len(objs), batch_size):
                    for row in _tuples(fields, objs[start : start + batch_size]):
                        copy.write_row(row)
            return len(objs)
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            table, columns, ", ".join(["%s"] * len(fields))
        )
        for start in range(0, len(objs), batch_size):
            cursor.executemany(sql, _tuples(fields, objs[start : start + batch_size]))
    return len(objs)


@contextmanager
def deferred_indexes(*models_: type[models.Model]) -> Iterator[None]:
    """On PostgreSQL, drop the plain indexes of the models' tables for a bulk load and build
    them again afterwards (far cheaper than keeping them up to date row by row); primary
    keys and the indexes behind UNIQUE and other constraints stay, so every constraint is
    still checked while loading. Elsewhere, or inside a transaction (whose deferred foreign
    key checks would forbid CREATE INDEX until it commits), do nothing."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    tables = [m._meta.db_table for m in models_]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema()"
            " AND i.tablename = ANY(%s) AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [tables],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            for _, definition in indexes:
                cursor.execute(
                    definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
                )
            cursor.execute("RESET maintenance_work_mem")
