"""A sharded ABIS (Ray actors) answers what one gallery of the same subjects answers."""

import os
import signal
import threading
import time
from collections import Counter

import numpy as np
import pytest
import ray
from django.core.management import call_command

from ektp.abis import synthetic
from ektp.abis.client import RemoteAbis
from ektp.abis.errors import (
    AbisError,
    DuplicateSubject,
    InvalidRequest,
    InvalidTemplate,
    ShardUnavailable,
    UnknownModality,
    UnknownSubject,
)
from ektp.abis.service import LocalAbis
from ektp.abis.sharded import ShardedAbis, shard_of
from ektp.dedup.engine import close_engine, get_engine
from ektp.dedup.management.commands.abis import Command
from tests.abis.factories import KEYS, subject_id, template_at

pytestmark = pytest.mark.slow  # starts Ray and a few shard processes

SUBJECTS = 300
SHARDS = 4


@pytest.fixture(scope="module", autouse=True)
def ray_on_this_machine():
    """Start Ray once for the module, small: two CPUs, no dashboard."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="ektp-tests")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def people():
    """Return the subjects' templates, recaptures of a few of them and strangers."""
    population = synthetic.make_population(SUBJECTS, seed=2512)
    rng = np.random.default_rng(7)
    mates = {
        index: synthetic.recapture(template_at(population, index), rng).to_bytes()
        for index in (0, 17, 101, 250, 299)
    }
    strangers = [row.tobytes() for row in synthetic.make_population(5, seed=99)]
    return population, mates, strangers


def twin_ids() -> tuple[str, str]:
    """Return two ids on different shards, the second sorting before the first."""
    first = "zz-twin"
    second = next(
        f"aa-twin-{n}"
        for n in range(100)
        if shard_of(f"aa-twin-{n}", SHARDS) != shard_of(first, SHARDS)
    )
    return first, second


def fill(abis, population) -> None:
    """Insert every subject, then one template twice under two ids (a planted tie)."""
    ids = [subject_id(i) for i in range(len(population))]
    if isinstance(abis, ShardedAbis):
        abis.insert_many(ids, population)
    else:
        abis.gallery().insert_many(ids, population)
    for twin in twin_ids():
        abis.insert(twin, population[42].tobytes())


def answers(abis, probes, top_k=5):
    return [abis.identify(probe, top_k=top_k).to_dict() for probe in probes]


@pytest.fixture(scope="module")
def pair(people):
    """Return one gallery and four shards (kept in memory), both holding the same subjects."""
    population, _mates, _strangers = people
    one = LocalAbis()
    sharded = ShardedAbis(SHARDS, threads_per_shard=1, timeout=60)
    fill(one, population)
    fill(sharded, population)
    yield one, sharded
    sharded.close()


def test_four_shards_answer_what_one_gallery_answers(people, pair):
    population, mates, strangers = people
    one, sharded = pair
    probes = [*mates.values(), *strangers, population[42].tobytes()]

    expected = answers(one, probes, top_k=5)
    assert answers(sharded, probes, top_k=5) == expected
    assert answers(sharded, probes[:3], top_k=40) == answers(one, probes[:3], top_k=40)
    assert sharded.count() == one.count()
    for index, answer in zip(mates, expected, strict=False):
        assert answer["match"] and answer["candidates"][0]["subject_id"] == subject_id(index)
    for answer in expected[len(mates) : len(mates) + len(strangers)]:
        assert not answer["match"]
    tie = expected[-1]["candidates"]
    assert tie[0]["score"] == tie[1]["score"] == tie[2]["score"]
    # Equal scores come in the order the references were added, not by id or shard.
    assert [c["subject_id"] for c in tie[:3]] == [subject_id(42), *twin_ids()]


def test_enroll_on_shards_decides_as_one_gallery(people, pair):
    _population, mates, strangers = people
    one, sharded = pair
    steps = [
        ("mate-of-17", mates[17]),  # a mate elsewhere: refused
        ("new-person", strangers[0]),  # nobody alike: added
        ("new-person", strangers[0]),  # the retried enrollment: held, not added twice
        (subject_id(250), mates[250]),  # its own reference is no match
    ]
    try:
        for name, probe in steps:
            assert sharded.enroll(name, probe).to_dict() == one.enroll(name, probe).to_dict()
        assert sharded.count() == one.count() == SUBJECTS + 3
    finally:
        for abis in pair:
            abis.delete("new-person")


def test_two_enrollments_of_one_person_at_once_admit_one(people, pair):
    _population, _mates, strangers = people
    _one, sharded = pair
    outcomes = []

    def enroll(name):
        outcomes.append(sharded.enroll(name, strangers[1]))

    threads = [threading.Thread(target=enroll, args=(f"twin-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcome.inserted for outcome in outcomes) == [False, True]
    admitted = next(o for o in outcomes if o.inserted)
    refused = next(o for o in outcomes if not o.inserted)
    assert refused.identification.match
    sharded.delete(refused.identification.candidates[0].subject_id)
    assert admitted.count == SUBJECTS + 3


def test_insert_and_delete_go_to_the_shard_of_the_subject_id(people, pair):
    population, _mates, _strangers = people
    _one, sharded = pair
    before = [c["iris"] for c in sharded.shard_counts()]
    ids = [f"route-{i}" for i in range(100)]
    sharded.insert_many(ids, population[:100])
    expected = Counter(shard_of(i, SHARDS) for i in ids)
    after = [c["iris"] for c in sharded.shard_counts()]
    assert [a - b for a, b in zip(after, before, strict=True)] == [
        expected[s] for s in range(SHARDS)
    ]
    assert min(expected.values()) > 10  # the hash spreads subjects evenly enough

    gone = ids[5]
    assert sharded.delete(gone) == sum(after) - 1
    expected[shard_of(gone, SHARDS)] -= 1
    after = [c["iris"] for c in sharded.shard_counts()]
    assert [a - b for a, b in zip(after, before, strict=True)] == [
        expected[s] for s in range(SHARDS)
    ]
    assert sharded.ping() == {"status": "ok", "modalities": {"iris": sum(after)}, "shards": 4}

    with pytest.raises(UnknownSubject):
        sharded.delete(gone)
    with pytest.raises(DuplicateSubject):
        sharded.insert(ids[6], population[6].tobytes())
    with pytest.raises(InvalidTemplate):
        sharded.insert("short", b"\x00" * 10)
    with pytest.raises(InvalidTemplate):
        sharded.identify("not bytes")
    with pytest.raises(InvalidRequest):
        sharded.identify(population[0].tobytes(), top_k=0)
    with pytest.raises(InvalidRequest):
        sharded.insert("", population[0].tobytes())
    with pytest.raises(UnknownModality):
        sharded.count(modality="palm")
    for subject in ids:
        if subject != gone:
            sharded.delete(subject)
    assert [c["iris"] for c in sharded.shard_counts()] == before


def test_shard_that_does_not_answer_fails_the_search(people, pair):
    _population, mates, _strangers = people
    _one, sharded = pair
    pid = sharded.shard_pids()[2]
    os.kill(pid, signal.SIGSTOP)
    sharded.timeout = 1.0
    try:
        with pytest.raises(ShardUnavailable, match="tidak menjawab dalam 1 detik"):
            sharded.identify(mates[0])
    finally:
        sharded.timeout = 60.0
        os.kill(pid, signal.SIGCONT)
    assert sharded.identify(mates[0]).match  # answered again once the shard runs


def test_shard_killed_mid_search_fails_clearly_never_unique(people, pair):
    _population, _mates, strangers = people
    _one, sharded = pair
    pid = sharded.shard_pids()[1]
    os.kill(pid, signal.SIGSTOP)  # the search reaches the shard and waits there
    outcome = []

    def search():
        try:
            outcome.append(sharded.identify(strangers[2]))
        except AbisError as error:
            outcome.append(error)

    thread = threading.Thread(target=search)
    thread.start()
    time.sleep(0.5)
    os.kill(pid, signal.SIGKILL)
    thread.join()
    assert len(outcome) == 1 and isinstance(outcome[0], ShardUnavailable)
    assert "tidak boleh menjawab" in str(outcome[0])
    # A shard kept in memory would come back empty, so it stays down and every search fails.
    with pytest.raises(ShardUnavailable):
        sharded.identify(strangers[2])


def test_restarted_shard_reloads_the_same_templates_from_its_journal(people, tmp_path):
    population, mates, strangers = people
    probes = [*mates.values(), *strangers, population[42].tobytes()]
    abis = ShardedAbis(SHARDS, tmp_path, keys=KEYS, fsync=False, threads_per_shard=1, timeout=60)
    try:
        abis.insert_many([subject_id(i) for i in range(200)], population[:200])
        abis.checkpoint()  # a snapshot, then a journal after it
        abis.insert_many([subject_id(i) for i in range(200, SUBJECTS)], population[200:])
        for twin in twin_ids():
            abis.insert(twin, population[42].tobytes())
        abis.delete(subject_id(17))
        before = answers(abis, probes)
        counts = abis.shard_counts()
        old = abis.shard_pids()
        os.kill(old[shard_of(twin_ids()[1], SHARDS)], signal.SIGKILL)
        deadline = time.monotonic() + 120
        while True:  # Ray restarts the actor, which reopens its directory
            try:
                new = abis.shard_pids()
                break
            except ShardUnavailable:
                assert time.monotonic() < deadline
                time.sleep(0.5)
        assert sum(n != o for n, o in zip(new, old, strict=True)) == 1
        assert abis.shard_counts() == counts
        assert answers(abis, probes) == before
        assert abis.count() == SUBJECTS + 1
    finally:
        abis.close()
    with pytest.raises(AbisError, match="4 shard, bukan 3"):
        ShardedAbis(3, tmp_path, keys=KEYS, fsync=False)


def test_a_gallery_of_one_is_not_opened_as_shards(tmp_path):
    LocalAbis(tmp_path, keys=KEYS, fsync=False).close()
    with pytest.raises(AbisError, match="satu galeri tanpa shard"):
        ShardedAbis(SHARDS, tmp_path, keys=KEYS, fsync=False)
    assert not (tmp_path / "shards.json").exists()


def test_serve_with_shards_answers_remote_clients_as_one_gallery(people, tmp_path):
    population, mates, _strangers = people
    command = Command()
    errors = []

    def run():
        try:
            call_command(
                command, "serve", "--port", "0", "--data-dir", str(tmp_path), "--shards", "2"
            )
        except BaseException as error:  # reported to the test thread
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert command.ready.wait(timeout=300), errors
    try:
        remote = RemoteAbis(command.server.url)
        remote.insert(subject_id(0), population[0].tobytes())
        assert remote.insert(subject_id(1), population[1].tobytes()) == 2
        assert remote.identify(mates[0]).candidates[0].subject_id == subject_id(0)
        assert remote.ping() == {"status": "ok", "modalities": {"iris": 2}, "shards": 2}
    finally:
        command.server.shutdown()
        thread.join(timeout=120)
    assert not errors
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [
        "shard-000-of-002",
        "shard-001-of-002",
    ]


def test_settings_with_abis_shards_run_the_in_process_gallery_in_shards(people, tmp_path, settings):
    population, mates, _strangers = people
    settings.ABIS_URL = None
    settings.ABIS_DATA_DIR = str(tmp_path)
    settings.ABIS_SHARDS = 2
    try:
        engine = get_engine()
        assert isinstance(engine, ShardedAbis) and engine.shards == 2
        engine.insert(subject_id(250), population[250].tobytes())
        assert engine.identify(mates[250]).match
    finally:
        close_engine()
