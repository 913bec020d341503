"""The cache that holds rate-limit counters, shared by every process of one install.

Django's DatabaseCache counts the whole table on every write (to cull it when full), then
reads and writes the key in a transaction; its increment reads the value and sets it again,
so two processes counting the same key at once can lose a count, and the set restarts the
key's timeout (a one-hour window would forget its count five minutes after the last try).

Here each write is one statement (INSERT … ON CONFLICT … DO UPDATE … RETURNING, SQLite ≥ 3.35
and PostgreSQL). Integers are stored as text ("#41") so that the database adds to them
itself: an increment is one UPDATE that holds the row only for itself, rewrites only the
value and keeps the expiry. The table is counted (and culled when over MAX_ENTRIES) only
once in CULL_EVERY writes of a process, by default one in a thousandth of MAX_ENTRIES
(at most 1,000): a process can overshoot the bound by that many rows between two counts.

With Redis, the increment is one server-side script instead of EXISTS then INCRBY, so a
rate-limit check (SET NX, then the increment when the key exists) makes two round trips.
"""

from __future__ import annotations

import base64
import itertools
import pickle
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connections, models, router, transaction
from django.utils.timezone import now

COUNTER_MARK = "#"  # not in the base64 alphabet: a value starting with it is a plain integer

_writes = itertools.count(1)  # writes of this process, for the occasional count of the table


class DatabaseCache(DjangoDatabaseCache):
    """Django's DatabaseCache with one-statement writes and an atomic increment."""

    def __init__(self, table, params):
        super().__init__(table, params)
        options = params.get("OPTIONS", {})
        default_every = min(1000, max(1, self._max_entries // 1000))
        self._cull_every = max(1, int(options.get("CULL_EVERY", default_every)))
        self._quoted: dict[str, dict[str, str]] = {}

    # Encoding -----------------------------------------------------------------------------

    def _encode(self, value) -> str:
        if type(value) is int:
            return f"{COUNTER_MARK}{value}"
        return base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")

    @staticmethod
    def _decode(connection, text: str):
        text = connection.ops.process_clob(text)
        if text.startswith(COUNTER_MARK):
            return int(text[1:])
        return pickle.loads(base64.b64decode(text.encode()))

    def _expiry(self, connection, timeout):
        timeout = self.get_backend_timeout(timeout)
        if timeout is None:
            expires = datetime.max
        else:
            expires = datetime.fromtimestamp(timeout, tz=UTC if settings.USE_TZ else None)
        return connection.ops.adapt_datetimefield_value(expires.replace(microsecond=0))

    def _now(self, connection):
        return connection.ops.adapt_datetimefield_value(now())

    def _names(self, connection) -> dict[str, str]:
        names = self._quoted.get(connection.vendor)
        if names is None:
            quote = connection.ops.quote_name
            names = self._quoted[connection.vendor] = {
                "table": quote(self._table),
                "key": quote("cache_key"),
                "value": quote("value"),
                "expires": quote("expires"),
            }
        return names

    # Reads --------------------------------------------------------------------------------

    def get_many(self, keys, version=None):
        if not keys:
            return {}
        key_map = {self.make_and_validate_key(key, version=version): key for key in keys}
        connection = connections[router.db_for_read(self.cache_model_class)]
        n = self._names(connection)
        marks = ", ".join(["%s"] * len(key_map))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {n['key']}, {n['value']}, {n['expires']} FROM {n['table']} "
                f"WHERE {n['key']} IN ({marks})",
                list(key_map),
            )
            rows = cursor.fetchall()
        result, expired = {}, []
        for key, value, expires in rows:
            if self._expired(connection, expires):
                expired.append(key)
            else:
                result[key_map.get(key)] = self._decode(connection, value)
        self._base_delete_many(expired)
        return result

    # Writes -------------------------------------------------------------------------------

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        n = self._names(connection)
        self._maybe_cull(db)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {n['table']} ({n['key']}, {n['value']}, {n['expires']}) "
                f"VALUES (%s, %s, %s) ON CONFLICT ({n['key']}) DO UPDATE SET "
                f"{n['value']} = excluded.{n['value']}, {n['expires']} = excluded.{n['expires']}",
                [key, self._encode(value), self._expiry(connection, timeout)],
            )

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        """Store the value unless the key holds a live one; tell whether it was stored.

        A live row is found by the NOT EXISTS without writing (no lock, nothing to commit);
        an expired row is replaced in the same statement.
        """
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        n = self._names(connection)
        current = self._now(connection)
        self._maybe_cull(db)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {n['table']} ({n['key']}, {n['value']}, {n['expires']}) "
                f"SELECT %s, %s, %s WHERE NOT EXISTS (SELECT 1 FROM {n['table']} "
                f"WHERE {n['key']} = %s AND {n['expires']} >= %s) "
                f"ON CONFLICT ({n['key']}) DO UPDATE SET {n['value']} = excluded.{n['value']}, "
                f"{n['expires']} = excluded.{n['expires']} WHERE {n['table']}.{n['expires']} < %s "
                f"RETURNING {n['key']}",
                [
                    key,
                    self._encode(value),
                    self._expiry(connection, timeout),
                    key,
                    current,
                    current,
                ],
            )
            return cursor.fetchone() is not None

    def incr(self, key, delta=1, version=None):
        """Add delta to a live integer in one UPDATE, keeping the key's expiry."""
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        n = self._names(connection)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {n['table']} SET {n['value']} = '{COUNTER_MARK}' || "
                f"(CAST(SUBSTR({n['value']}, 2) AS BIGINT) + %s) "
                f"WHERE {n['key']} = %s AND {n['expires']} >= %s "
                f"AND SUBSTR({n['value']}, 1, 1) = '{COUNTER_MARK}' RETURNING {n['value']}",
                [int(delta), key, self._now(connection)],
            )
            row = cursor.fetchone()
        if row is not None:
            return self._decode(connection, row[0])
        return self._incr_pickled(db, key, delta)

    def _incr_pickled(self, db, key, delta):
        """Increment a value stored pickled (or fail on a missing key) under a row lock."""
        connection = connections[db]
        n = self._names(connection)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {n['value']}, {n['expires']} FROM {n['table']} "
                f"WHERE {n['key']} = %s{lock}",
                [key],
            )
            row = cursor.fetchone()
            if row is None or self._expired(connection, row[1]):
                raise ValueError(f"Key '{key}' not found")
            value = self._decode(connection, row[0]) + delta
            cursor.execute(
                f"UPDATE {n['table']} SET {n['value']} = %s WHERE {n['key']} = %s",
                [self._encode(value), key],
            )
        return value

    def _maybe_cull(self, db) -> None:
        """Count the table once in CULL_EVERY writes and cull it when over MAX_ENTRIES."""
        if next(_writes) % self._cull_every:
            return
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            num = cursor.fetchone()[0]
            if num > self._max_entries:
                self._cull(db, cursor, now().replace(microsecond=0), num)

    @staticmethod
    def _expired(connection, expires) -> bool:
        expression = models.Expression(output_field=models.DateTimeField())
        converters = connection.ops.get_db_converters(expression)
        for converter in converters + expression.get_db_converters(connection):
            expires = converter(expires, expression, connection)
        return expires < now()


# INCRBY only a key that exists (Django's client asks EXISTS first: two round trips).
INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end
return false
"""


class _CountingRedisClient(RedisCacheClient):
    def incr(self, key, delta):
        client = self.get_client(key, write=True)
        value = client.register_script(INCR_EXISTING)(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class RedisCache(DjangoRedisCache):
    """Django's RedisCache whose increment is one round trip (a server-side script)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _CountingRedisClient


def create_cache_table(*, using: str = "default", **kwargs) -> None:
    """Create the cache table after `migrate` when a cache is kept in the database."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)
