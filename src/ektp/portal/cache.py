"""The cache that holds rate-limit counters, shared by every process of one install.

Django's DatabaseCache increments by reading the value and setting it again: two processes
counting the same key at once can lose a count, and the set restarts the key's timeout
(a one-hour window would forget its count five minutes after the last try). Here the
increment holds the row (the write lock of SQLite's immediate transactions, or SELECT …
FOR UPDATE) and rewrites only the value, keeping the expiry.
"""

from __future__ import annotations

import base64
import pickle

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, models, router, transaction
from django.utils.timezone import now


class DatabaseCache(DjangoDatabaseCache):
    """Django's DatabaseCache with an atomic increment that keeps the key's expiry."""

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table, value_col, key_col = quote(self._table), quote("value"), quote("cache_key")
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {value_col}, {quote('expires')} FROM {table} WHERE {key_col} = %s{lock}",
                [key],
            )
            row = cursor.fetchone()
            if row is None or self._expired(connection, row[1]):
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(base64.b64decode(connection.ops.process_clob(row[0]).encode()))
            value += delta
            pickled = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {value_col} = %s WHERE {key_col} = %s", [pickled, key]
            )
        return value

    @staticmethod
    def _expired(connection, expires) -> bool:
        expression = models.Expression(output_field=models.DateTimeField())
        converters = connection.ops.get_db_converters(expression)
        for converter in converters + expression.get_db_converters(connection):
            expires = converter(expires, expression, connection)
        return expires < now()


def create_cache_table(*, using: str = "default", **kwargs) -> None:
    """Create the cache table after `migrate` when a cache is kept in the database."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)
