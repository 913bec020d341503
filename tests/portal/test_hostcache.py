"""The host cache: Django's cache API over one LMDB file shared by every process of a machine."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.core.cache.backends.base import CacheKeyWarning

from ektp.portal.hostcache import HostCache, _environment
from tests.threads import run_in_threads

SRC = str(Path(__file__).resolve().parents[2] / "src")


def make(path: Path, **options) -> HostCache:
    return HostCache(str(path), {"OPTIONS": {"MAX_ENTRIES": 1_000_000, **options}})


@pytest.fixture
def cache(tmp_path) -> HostCache:
    return make(tmp_path / "cache")


# Django's cache API ---------------------------------------------------------------------------


def test_add_stores_only_where_nothing_lives(cache):
    assert cache.add("a", 1, 60)
    assert not cache.add("a", 2, 60)
    assert cache.get("a") == 1
    cache.set("a", 3, -1)  # expired at once
    assert cache.get("a", "none") == "none"
    assert cache.add("a", 4, 60)
    assert cache.get("a") == 4


def test_values_round_trip_and_integers_stay_integers(cache):
    values = {
        "int": 7,
        "negative": -3,
        "huge": 2**80,
        "text": "#7",
        "dict": {"a": [1, "b"]},
        "flag": True,
        "none": None,
        "bytes": b"\x00\xff",
    }
    for key, value in values.items():
        cache.set(key, value, 60)
    for key, value in values.items():
        assert cache.get(key, "missing") == value
        assert type(cache.get(key, "missing")) is type(value)
    assert cache.get_many(["int", "text", "nowhere"]) == {"int": 7, "text": "#7"}


def test_incr_adds_in_place_and_fails_on_a_missing_or_expired_key(cache):
    cache.set("n", 5, 60)
    assert cache.incr("n") == 6
    assert cache.incr("n", 10) == 16
    assert cache.decr("n", 6) == 10
    with pytest.raises(ValueError):
        cache.incr("nowhere")
    cache.set("old", 1, -1)
    with pytest.raises(ValueError):
        cache.incr("old")
    cache.set("big", 2**63 - 1, 60)
    assert cache.incr("big") == 2**63  # beyond 64 bits: stored pickled, still counts
    assert cache.incr("big") == 2**63 + 1


def test_incr_keeps_the_expiry(cache):
    cache.set("keep", 1, 2)
    cache.incr("keep")
    time.sleep(2.1)
    assert cache.get("keep") is None


def test_touch_delete_has_key_and_clear(cache):
    cache.set("t", "x", 1)
    assert cache.touch("t", 3600)
    time.sleep(1.1)
    assert cache.get("t") == "x"
    assert not cache.touch("nowhere", 60)
    assert cache.has_key("t")
    assert cache.delete("t")
    assert not cache.delete("t")
    assert not cache.has_key("t")
    cache.set_many({"p": 1, "q": 2}, 60)
    assert cache.get_many(["p", "q"]) == {"p": 1, "q": 2}
    cache.delete_many(["p"])
    assert cache.get_many(["p", "q"]) == {"q": 2}
    cache.clear()
    assert cache.get("q") is None


def test_a_value_that_never_expires(cache):
    cache.set("forever", "ya", None)
    assert cache.get("forever") == "ya"


def test_keys_longer_than_lmdb_takes_are_stored_by_their_hash(cache):
    long_key = "k" * 600
    cache.count_hits([(long_key, 60, 100)])
    assert cache.count_hits([(long_key, 60, 100)]) == [2]
    with pytest.warns(CacheKeyWarning):  # as every Django cache warns of memcached's limit
        assert cache.get(long_key) == 2
        assert cache.get("k" * 599) is None


def test_two_cache_objects_on_one_file_see_the_same_counters(tmp_path):
    first, second = make(tmp_path / "shared"), make(tmp_path / "shared")
    assert first.count_hits([("ip", 600, 100)]) == [1]
    assert second.count_hits([("ip", 600, 100)]) == [2]
    assert first.incr("ip") == 3


# Every process of the machine counts in one file ----------------------------------------------

COUNTER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from django.conf import settings
    settings.configure(CACHES={"default": {
        "BACKEND": "ektp.portal.hostcache.HostCache", "LOCATION": sys.argv[2],
        "OPTIONS": {"MAX_ENTRIES": 1000000, "CULL_EVERY": 7}}})
    import django
    django.setup()
    from django.core.cache import cache
    windows = [("race-ip", 3600, int(sys.argv[4])), ("race-nik", 3600, 10**9)]
    print(json.dumps([cache.count_hits(windows) for _ in range(int(sys.argv[3]))]))
    """
)


def _count_in_processes(path: Path, processes: int, each: int, first_limit: int) -> list:
    started = [
        subprocess.Popen(
            [sys.executable, "-c", COUNTER, SRC, str(path), str(each), str(first_limit)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    results = []
    for process in started:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        results += json.loads(out)
    return results


def test_processes_counting_at_once_lose_or_double_no_count(tmp_path):
    results = _count_in_processes(tmp_path / "race", processes=4, each=250, first_limit=10**9)
    assert sorted(counts[0] for counts in results) == list(range(1, 1001))
    assert sorted(counts[1] for counts in results) == list(range(1, 1001))
    assert make(tmp_path / "race").get("race-ip") == 1000


def test_processes_count_the_second_window_only_under_the_first_limit(tmp_path):
    results = _count_in_processes(tmp_path / "limit", processes=4, each=100, first_limit=150)
    assert sorted(counts[0] for counts in results) == list(range(1, 401))
    counted = [counts for counts in results if len(counts) == 2]
    assert len(counted) == 150
    assert sorted(counts[1] for counts in counted) == list(range(1, 151))


def test_threads_counting_at_once_lose_or_double_no_count(tmp_path):
    path = tmp_path / "threads"
    results = []

    def tries() -> None:
        cache = make(path, CULL_EVERY=3)
        for _ in range(50):
            results.append(cache.count_hits([("t-ip", 3600, 10**9)])[0])

    assert run_in_threads(tries, 8) == []
    assert sorted(results) == list(range(1, 401))


KILLED_WHILE_WRITING = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, sys.argv[1])
    from django.conf import settings
    settings.configure()
    from ektp.portal.hostcache import HostCache, _environment
    cache = HostCache(sys.argv[2], {})
    txn = _environment(cache._path, cache._map_size).begin(write=True)
    txn.put(cache._key("ip", None), b"half-written")
    print("writing", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_worker_killed_while_writing_neither_blocks_nor_spoils_the_counters(cache):
    assert cache.count_hits([("ip", 3600, 100)]) == [1]
    with subprocess.Popen(
        [sys.executable, "-c", KILLED_WHILE_WRITING, SRC, cache._path], stdout=subprocess.PIPE
    ) as worker:
        assert worker.stdout.readline() == b"writing\n"
        assert worker.wait(timeout=30) == -9
    assert cache.count_hits([("ip", 3600, 100)]) == [2]  # its write was never committed


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_process_counts_in_the_same_file(cache):
    assert cache.count_hits([("fork", 3600, 100)]) == [1]
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 0 if cache.count_hits([("fork", 3600, 100)]) == [2] else 1
        os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert cache.count_hits([("fork", 3600, 100)]) == [3]


# Bounded, and started again when damaged ------------------------------------------------------


def _entries(cache: HostCache) -> int:
    return cache._run(lambda txn: txn.stat(cache._main(txn))["entries"])


def test_the_sweep_removes_expired_entries_as_writes_go_on(tmp_path):
    quiet = make(tmp_path / "sweep", CULL_EVERY=1000)
    for number in range(300):
        quiet.set(f"gone-{number}", 1, 1)
    assert _entries(quiet) == 300
    time.sleep(1.1)
    cache = make(tmp_path / "sweep", CULL_EVERY=10)
    for number in range(200):
        cache.count_hits([(f"live-{number}", 3600, 100)])
    assert _entries(cache) == 200
    assert cache.get("live-0") == 1


def test_culling_bounds_the_entries(tmp_path):
    cache = make(tmp_path / "cull", MAX_ENTRIES=50, CULL_EVERY=5, CULL_FREQUENCY=2)
    for number in range(500):
        cache.count_hits([(f"nik-{number}", 3600, 100)])
        assert _entries(cache) <= 50 + 5
    assert cache.get("nik-499") == 1  # the newest are kept when the oldest keys sort first


def test_a_full_file_is_swept_and_culled_and_the_write_goes_through(tmp_path, caplog):
    cache = make(tmp_path / "full", MAP_SIZE=128 * 1024, CULL_EVERY=1000)
    with caplog.at_level(logging.WARNING, logger="ektp.portal.hostcache"):
        for number in range(5000):
            assert cache.count_hits([(f"full-{number:05d}", 3600, 100)]) == [1]
    assert "is full: sweeping and culling it" in caplog.text
    assert "map grown" in caplog.text  # even removing entries found no room at first
    assert cache.get("full-04999") == 1


def test_a_damaged_file_is_put_aside_and_started_again(tmp_path, caplog):
    path = tmp_path / "damaged"
    path.mkdir()
    (path / "data.mdb").write_bytes(b"\x13" * 65536)
    with caplog.at_level(logging.ERROR, logger="ektp.portal.hostcache"):
        cache = make(path)
        assert cache.count_hits([("after", 3600, 100)]) == [1]
    assert "damaged" in caplog.text
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("damaged.damaged-")]
    assert len(aside) == 1 and (aside[0] / "data.mdb").read_bytes() == b"\x13" * 65536


def test_the_file_is_not_flushed_on_every_commit(cache):
    cache.set("x", 1, 60)
    flags = _environment(cache._path, cache._map_size).flags()
    assert flags["sync"] is False
    assert flags["metasync"] is False


# A full disk -----------------------------------------------------------------------------------

# Mounts a tmpfs of 512 KiB on argv[2] (in a mount namespace of its own: see _on_a_tiny_disk),
# fills it before ("before") or after ("after") the cache's first count, then counts three
# times and prints what each try raised, then frees the disk and counts once more.
ON_A_FULL_DISK = textwrap.dedent(
    """
    import errno, json, os, subprocess, sys
    sys.path.insert(0, sys.argv[1])
    from django.conf import settings
    settings.configure()
    import lmdb
    from ektp.portal.hostcache import HostCache
    root, when = sys.argv[2], sys.argv[3]
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", root], check=True)

    def fill():
        fd = os.open(os.path.join(root, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, bytes(4096))
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        finally:
            os.close(fd)

    cache = HostCache(os.path.join(root, "cache"), {})
    outcomes = []
    if when == "after":
        outcomes.append(cache.count_hits([("ip", 60, 100)]))
    fill()
    for n in range(3):
        try:
            outcomes.append(cache.count_hits([(f"try-{n}" * 40, 60, 100)]))
        except (OSError, lmdb.Error) as exc:
            outcomes.append(type(exc).__name__)
    os.remove(os.path.join(root, "filler"))
    outcomes.append(cache.count_hits([("ip", 60, 100)]))
    print(json.dumps(outcomes), flush=True)
    """
)


def _on_a_tiny_disk(tmp_path: Path, when: str) -> subprocess.CompletedProcess:
    """Run ON_A_FULL_DISK in a mount namespace of its own (as root in a user namespace when
    not root already): the tmpfs goes away with the process, and a process killed by SIGBUS
    takes nothing of the test run with it."""
    disk = tmp_path / "disk"
    disk.mkdir()
    unshare = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        unshare.append("--map-root-user")
    probe = subprocess.run([*unshare, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here: {probe.stderr.decode()[:200]}")
    return subprocess.run(
        [*unshare, sys.executable, "-c", ON_A_FULL_DISK, SRC, str(disk), when],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_full_disk_before_the_first_count_is_an_error_not_a_dead_process(tmp_path):
    """LMDB's new lock file was sparse and written through a memory map: on a full disk the
    first count killed the process with SIGBUS."""
    run = _on_a_tiny_disk(tmp_path, "before")
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
    outcomes = json.loads(run.stdout)
    assert outcomes[:3] == ["OSError"] * 3
    assert outcomes[3] == [1]  # room again: the cache works


def test_a_disk_that_fills_up_later_is_an_error_and_the_counts_survive(tmp_path):
    run = _on_a_tiny_disk(tmp_path, "after")
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
    outcomes = json.loads(run.stdout)
    assert outcomes[0] == [1]
    assert all(isinstance(o, str) for o in outcomes[1:4]), outcomes
    assert outcomes[4] == [2]  # the count before the disk filled up is still there


def test_the_lock_file_is_allocated_before_lmdb_maps_it(cache):
    cache.count_hits([("ip", 60, 100)])
    lock = os.stat(os.path.join(cache._path, "lock.mdb"))
    assert lock.st_size >= 8192
    assert lock.st_blocks * 512 >= lock.st_size  # no hole left for a page to fault in
