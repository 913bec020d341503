"""The caches that hold rate-limit counters in the database or in Redis, shared by every
process of one install, on one machine or several (ektp.portal.hostcache keeps them in a
file that the processes of one machine share: the default on SQLite).

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

With Redis, the increment is one server-side script instead of EXISTS then INCRBY.

`count_hits` counts one try in several fixed windows at once (the public inquiry counts
the client's address and the NIK): one statement, or one Redis script, instead of an add
and an increment per window. `count_hits_then_read` adds the read of the inquiry's answer:
on PostgreSQL, with the counters in the same database, the upserts and the read are one
statement, so the inquiry pays one round trip to the server. On PostgreSQL the table is
UNLOGGED: counters do not need the write-ahead log, and writing them then costs no disk
flush at commit (they are lost if the server crashes, which only forgives a few tries).

On a SQLite file, the counting writes of every thread and process take turns through an
exclusive lock on a file beside the database (`write_turn`) before they reach SQLite. Two
writers that meet inside SQLite are parted by its busy handler, which puts the second to
sleep for a millisecond or more and polls again: with one Python thread per web worker,
that sleep stops the worker. Waiting on the file lock, the kernel wakes the next writer the
moment the write before it is done.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import os
import pickle
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connections, models, router, transaction
from django.utils.timezone import now

from ektp.core.prepared import Read, fetch_one, prepared_cursor, statement

try:
    import fcntl
except ImportError:  # not a POSIX system: SQLite's own busy handler parts the writers
    fcntl = None

COUNTER_MARK = "#"  # not in the base64 alphabet: a value starting with it is a plain integer

_writes = itertools.count(1)  # writes of this process, for the occasional count of the table

_turns = threading.local()  # per thread: {lock path: (process id, descriptor)}


def turn_path(connection) -> str | None:
    """Return the file whose lock orders the counting writes on a SQLite database file, or
    None where there is nothing to order (another database, SQLite in memory, no fcntl)."""
    if fcntl is None or connection.vendor != "sqlite" or connection.is_in_memory_db():
        return None
    return f"{connection.settings_dict['NAME']}.writers"


@contextlib.contextmanager
def write_turn(connection):
    """Hold the exclusive lock of a SQLite database's counting writes (see the module).

    Each thread opens the lock file itself, so that threads exclude one another as
    processes do (flock's lock belongs to the open file), and opens it again after a fork.
    Inside a transaction nothing is taken: SQLite keeps the transaction's write lock until
    it ends, and a writer holding this lock while waiting for that one would stall the rest.
    """
    path = turn_path(connection)
    if path is None or connection.in_atomic_block:
        yield
        return
    held = getattr(_turns, "held", None)
    if held is None:
        held = _turns.held = {}
    pid, fd = held.get(path, (None, None))
    if pid != os.getpid():
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        held[path] = (os.getpid(), fd)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


# (cache key, timeout in seconds, limit): one window of a rate, as count_hits takes it.
Window = tuple[str, int, int]


class DatabaseCache(DjangoDatabaseCache):
    """Django's DatabaseCache with one-statement writes and an atomic increment."""

    def __init__(self, table, params):
        super().__init__(table, params)
        options = params.get("OPTIONS", {})
        default_every = min(1000, max(1, self._max_entries // 1000))
        self._cull_every = max(1, int(options.get("CULL_EVERY", default_every)))
        self._quoted: dict[str, dict[str, str]] = {}
        self._counting: dict[tuple[str, int], tuple[str, str | None]] = {}
        self._counting_and_reading: dict[tuple[str, int, str], str] = {}

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

    def count_hits(self, windows: Sequence[Window], version=None) -> list[int]:
        """Count one hit in each window in turn and return the counts.

        A window's key starts at 1 (expiring after its timeout) when missing, expired or not
        a counter, else goes up by one and keeps its expiry. Counting stops after the first
        window whose count goes over its limit: the later ones are not counted. Callers pass
        their windows in one order (the client before the NIK), so that concurrent calls take
        the rows' locks in that order.

        One statement whatever the number of windows, so one short write transaction. On
        PostgreSQL a chain of upserts, each counting only when the one before returned a
        count within its limit (a count read under the row's lock, so that two calls at the
        same moment cannot both pass a limit). On SQLite, where one writer at a time runs a
        statement, an INSERT … SELECT keeps a window's row while every earlier window's count
        is under its limit; the counts are then read back.
        """
        if not windows:
            return []
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        write, read = self._counting_sql(connection, len(windows))
        keys, limits, params = self._counting_params(connection, windows, version)
        with prepared_cursor(connection) as cursor:
            with write_turn(connection):
                cursor.execute(write, params)
            if read is not None:
                cursor.execute(read, keys)
            counted = {key: self._decode(connection, value) for key, value in cursor.fetchall()}
        self._maybe_cull(db)
        counts: list[int] = []
        for key, limit in zip(keys, limits, strict=True):
            if key not in counted:
                break
            counts.append(counted[key])
            if counts[-1] > limit:
                break
        return counts

    def reads_along(self, using: str) -> bool:
        """Tell whether count_hits_and_read can count and read in one statement: the
        counters are in the read's database, and it is PostgreSQL."""
        db = router.db_for_write(self.cache_model_class)
        return db == using and connections[db].vendor == "postgresql"

    def count_hits_and_read(
        self, windows: Sequence[Window], read: Read, version=None
    ) -> tuple[list[int], tuple | None]:
        """Count as count_hits does and run a read of one row, in one statement on
        PostgreSQL (see reads_along): one round trip to the server instead of two.

        The read is a subquery of the statement, joined to the counts, so it runs whatever
        the counts are; its row is returned (None when there is none) and the caller drops
        it when a window went over its limit.
        """
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        sql = self._counting_and_reading_sql(connection, len(windows), read.sql)
        _, limits, params = self._counting_params(connection, windows, version)
        with prepared_cursor(connection) as cursor:
            cursor.execute(sql, [*params, *read.params])
            counted, present, *row = cursor.fetchone()
        self._maybe_cull(db)
        counts: list[int] = []
        for value, limit in zip(counted, limits, strict=False):
            counts.append(self._decode(connection, value))
            if counts[-1] > limit:
                break
        return counts, (tuple(row) if present else None)

    def _counting_params(self, connection, windows, version) -> tuple[list, list, list]:
        """Return the keys, the limits and the parameters of the counting statement (the
        chain of upserts, or SQLite's INSERT … SELECT)."""
        current = self._now(connection)
        keys = [self.make_key(key, version=version) for key, _, _ in windows]
        expiries = [self._expiry(connection, timeout) for _, timeout, _ in windows]
        limits = [int(limit) for _, _, limit in windows]
        params: list = []
        if connection.vendor != "sqlite":
            for order, (key, expiry) in enumerate(zip(keys, expiries, strict=True)):
                params += [key, expiry]
                if order:  # counted only within the limit of the window before
                    params.append(limits[order - 1])
                params += [current, current]
        else:
            for order, (key, expiry) in enumerate(zip(keys, expiries, strict=True)):
                params += [key, expiry, order]
            for key, limit in zip(keys[:-1], limits, strict=False):
                params += [key, current, limit]
            params += [current, current]
        return keys, limits, params

    def _counting_and_reading_sql(self, connection, windows: int, read: str) -> str:
        """Return count_hits_and_read's statement: the chain of upserts of count_hits, their
        counts in window order as an array, then a flag and the columns of the read's row."""
        cached = self._counting_and_reading.get((connection.vendor, windows, read))
        if cached is not None:
            return cached
        v = self._names(connection)["value"]
        counted = " UNION ALL ".join(f"SELECT {i} AS n, {v} FROM c{i}" for i in range(windows))
        sql = (
            f"WITH {self._upsert_chain(connection, windows)}, counted AS ({counted}) "
            f"SELECT ARRAY(SELECT {v} FROM counted ORDER BY n), found.* FROM (SELECT 1) AS one "
            f"LEFT JOIN LATERAL (SELECT TRUE AS present, * FROM ({read}) AS r) AS found ON TRUE"
        )
        self._counting_and_reading[(connection.vendor, windows, read)] = sql
        return sql

    def _counting_sql(self, connection, windows: int) -> tuple[str, str | None]:
        """Return count_hits' statements for a number of windows: the write (returning the
        counts on PostgreSQL) and, on SQLite, the read of the counts (None elsewhere)."""
        cached = self._counting.get((connection.vendor, windows))
        if cached is not None:
            return cached
        n = self._names(connection)
        t, k, v, e = n["table"], n["key"], n["value"], n["expires"]
        mark = COUNTER_MARK
        if connection.vendor != "sqlite":
            counts = " UNION ALL ".join(f"SELECT {k}, {v} FROM c{i}" for i in range(windows))
            write = statement(
                connection, f"WITH {self._upsert_chain(connection, windows)} {counts}"
            )
            self._counting[(connection.vendor, windows)] = (write, None)
            return self._counting[(connection.vendor, windows)]
        on_conflict = self._on_conflict(connection)
        rows = ", ".join(["(%s, %s, %s)"] * windows)
        guards = ["1 = 1"] + [
            f"(column3 <= {order} OR COALESCE((SELECT CAST(SUBSTR({v}, 2) AS BIGINT) "
            f"FROM {t} WHERE {k} = %s AND {e} >= %s AND SUBSTR({v}, 1, 1) = '{mark}'), 0) < %s)"
            for order in range(windows - 1)
        ]
        write = (
            f"INSERT INTO {t} ({k}, {v}, {e}) "
            f"SELECT column1, '{mark}1', column2 FROM (VALUES {rows}) AS hits "
            f"WHERE {' AND '.join(guards)} {on_conflict}"
        )
        # SQLite keeps its write lock until a statement with RETURNING has been read to the
        # end, and this thread may wait for the GIL in between, holding up every writer of
        # every process: write without it, then read the counts.
        read = f"SELECT {k}, {v} FROM {t} WHERE {k} IN ({', '.join(['%s'] * windows)})"
        write, read = statement(connection, write), statement(connection, read)
        self._counting[(connection.vendor, windows)] = (write, read)
        return write, read

    def _on_conflict(self, connection) -> str:
        """The upsert's conflict clause: start again at the new row's 1 and expiry when the
        stored row is expired or not a counter, else add one and keep the expiry."""
        n = self._names(connection)
        t, k, v, e = n["table"], n["key"], n["value"], n["expires"]
        mark = COUNTER_MARK
        stale = f"{t}.{e} < %s OR SUBSTR({t}.{v}, 1, 1) <> '{mark}'"
        return (
            f"ON CONFLICT ({k}) DO UPDATE SET "
            f"{v} = CASE WHEN {stale} THEN excluded.{v} ELSE '{mark}' || "
            f"(CAST(SUBSTR({t}.{v}, 2) AS BIGINT) + 1) END, "
            f"{e} = CASE WHEN {stale} THEN excluded.{e} ELSE {t}.{e} END"
        )

    def _upsert_chain(self, connection, windows: int) -> str:
        """Return PostgreSQL's chain of upserts c0, c1, …, each returning its key and count,
        each after the first counting only when the one before is within its limit."""
        n = self._names(connection)
        t, k, v, e = n["table"], n["key"], n["value"], n["expires"]
        mark = COUNTER_MARK
        chain = [f"c0 AS (INSERT INTO {t} ({k}, {v}, {e}) VALUES (%s, '{mark}1', %s) "]
        chain += [
            f"c{i} AS (INSERT INTO {t} ({k}, {v}, {e}) SELECT %s, '{mark}1', %s FROM c{i - 1} "
            f"WHERE CAST(SUBSTR(c{i - 1}.{v}, 2) AS BIGINT) <= %s "
            for i in range(1, windows)
        ]
        on_conflict = self._on_conflict(connection)
        return ", ".join(f"{cte}{on_conflict} RETURNING {k}, {v})" for cte in chain)

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


# count_hits in one round trip: ARGV holds (timeout, limit) per key; a key that does not
# hold a counter starts again at 1, as in the database.
COUNT_HITS = """
local counts = {}
for i, key in ipairs(KEYS) do
  local count = redis.pcall('INCR', key)
  if type(count) == 'table' then  -- not a counter: start again
    redis.call('SET', key, 1, 'EX', ARGV[2 * i - 1])
    count = 1
  elseif redis.call('TTL', key) == -1 then
    redis.call('EXPIRE', key, ARGV[2 * i - 1])
  end
  counts[i] = count
  if count > tonumber(ARGV[2 * i]) then break end
end
return counts
"""


class RedisCache(DjangoRedisCache):
    """Django's RedisCache whose increment is one round trip (a server-side script)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _CountingRedisClient

    def count_hits(self, windows: Sequence[Window], version=None) -> list[int]:
        """Count one hit in each window in turn (see DatabaseCache.count_hits): one script."""
        keys = [self.make_and_validate_key(key, version=version) for key, _, _ in windows]
        args = [n for _, timeout, limit in windows for n in (int(timeout), int(limit))]
        client = self._cache.get_client(keys[0] if keys else None, write=True)
        return list(client.register_script(COUNT_HITS)(keys=keys, args=args))


def count_hits(cache, windows: Sequence[Window]) -> list[int]:
    """Count one hit in each window of any cache (see DatabaseCache.count_hits).

    The caches of this module do it in one round trip; others (the local memory cache of a
    single process) add, then increment, window by window.
    """
    if hasattr(cache, "count_hits"):
        return cache.count_hits(windows)
    counts: list[int] = []
    for key, timeout, limit in windows:
        if cache.add(key, 1, timeout):
            counts.append(1)
        else:
            try:
                counts.append(cache.incr(key))
            except (ValueError, TypeError):  # expired since, or not a counter
                cache.set(key, 1, timeout)
                counts.append(1)
        if counts[-1] > limit:
            break
    return counts


def count_hits_then_read(
    cache, windows: Sequence[Window], read: Read
) -> tuple[list[int], tuple | None]:
    """Count one hit in each window (see count_hits), then run a read of one row when no
    window went over its limit; return the counts and the row (None when there is none or
    a window went over).

    When the counters are this module's DatabaseCache in the read's PostgreSQL database,
    both go in one statement (DatabaseCache.count_hits_and_read): the public inquiry pays
    one round trip to the server instead of two. Elsewhere the read follows the counting.
    """
    if windows and isinstance(cache, DatabaseCache) and cache.reads_along(read.using):
        counts, row = cache.count_hits_and_read(windows, read)
        return counts, (None if over_any(counts, windows) else row)
    counts = count_hits(cache, windows)
    return counts, (None if over_any(counts, windows) else fetch_one(read))


def over_any(counts: Sequence[int], windows: Sequence[Window]) -> bool:
    """Tell whether a count went over its window's limit."""
    return any(count > limit for count, (_, _, limit) in zip(counts, windows, strict=False))


def create_cache_table(*, using: str = "default", **kwargs) -> None:
    """Create the cache table after `migrate` when a cache is kept in the database."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    for cache in settings.CACHES.values():
        if cache["BACKEND"] != f"{__name__}.DatabaseCache":
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relpersistence FROM pg_class WHERE oid = to_regclass(%s)",
                [connection.ops.quote_name(cache["LOCATION"])],
            )
            row = cursor.fetchone()
            if row is not None and row[0] == "p":
                cursor.execute(
                    f"ALTER TABLE {connection.ops.quote_name(cache['LOCATION'])} SET UNLOGGED"
                )
