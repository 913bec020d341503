"""Race tests: the same work from several threads at once, each on its own connection."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def run_in_threads(work: Callable[[], object], count: int) -> list[Exception]:
    """Run `work` in `count` threads started together (behind a barrier), each closing its
    database connection when done; return what the threads raised, for the assertion."""
    barrier = threading.Barrier(count)
    errors: list[Exception] = []

    def thread() -> None:
        try:
            barrier.wait()
            work()
        except Exception as exc:  # surfaced in the caller's assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=thread) for _ in range(count)]
    for each in threads:
        each.start()
    for each in threads:
        each.join()
    return errors
