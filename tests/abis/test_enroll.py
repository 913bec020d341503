"""Enroll: identify and insert-if-no-hit as one step, in the gallery, in-process and over HTTP."""

import threading

import pytest

from ektp.abis import synthetic
from ektp.abis.client import RemoteAbis
from ektp.abis.errors import InvalidRequest, InvalidTemplate
from ektp.abis.gallery import Gallery
from ektp.abis.interfaces import EnrollOutcome
from ektp.abis.matchers import IrisMatcher
from ektp.abis.service import LocalAbis, make_server

from .factories import KEYS, filled_gallery, genuine_probe, subject_id, template_at


@pytest.fixture
def small(population):
    return population[:200]


def test_enroll_adds_a_probe_that_matches_no_one(small, population):
    gallery = filled_gallery(small)
    outcome = gallery.enroll("NEW", template_at(population, 300).to_bytes())
    assert outcome.inserted
    assert not outcome.identification.match
    assert outcome.identification.gallery_size == 200
    assert outcome.count == 201
    assert "NEW" in gallery


def test_enroll_refuses_a_probe_that_matches_and_leaves_the_gallery_unchanged(small, population):
    gallery = filled_gallery(small)
    probe = genuine_probe(template_at(population, 17), seed=3)
    outcome = gallery.enroll("SECOND-NIK", probe.to_bytes())
    assert not outcome.inserted
    assert outcome.identification.match
    assert outcome.identification.matches[0].subject_id == subject_id(17)
    assert "SECOND-NIK" not in gallery
    assert gallery.count() == 200


def test_enroll_again_of_a_held_subject_does_not_match_itself(small, population):
    gallery = filled_gallery(small)
    template = template_at(population, 300).to_bytes()
    assert gallery.enroll("NEW", template).inserted
    again = gallery.enroll("NEW", template)
    assert not again.inserted
    assert not again.identification.match
    assert "NEW" not in [c.subject_id for c in again.identification.candidates]
    assert again.identification.gallery_size == 200
    assert gallery.count() == 201


def test_two_captures_of_one_person_enrolled_at_once_add_exactly_one():
    gallery = Gallery(IrisMatcher())
    for index, record in enumerate(synthetic.make_population(50, seed=11)):
        gallery.insert(subject_id(index), record.tobytes())
    eyes = synthetic.make_subject(4242)
    probes = {"A": eyes.to_bytes(), "B": genuine_probe(eyes, seed=9).to_bytes()}
    barrier = threading.Barrier(len(probes))
    outcomes: dict[str, EnrollOutcome] = {}

    def run(name):
        barrier.wait()
        outcomes[name] = gallery.enroll(name, probes[name])

    threads = [threading.Thread(target=run, args=(name,)) for name in probes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(o.inserted for o in outcomes.values()) == [False, True]
    winner = next(name for name, o in outcomes.items() if o.inserted)
    loser = next(o for o in outcomes.values() if not o.inserted)
    assert loser.identification.matches[0].subject_id == winner
    assert gallery.count() == 51


@pytest.mark.parametrize(
    ("subject", "template", "error"),
    [
        ("", b"\0" * 2048, InvalidRequest),
        ("X", b"\0" * 10, InvalidTemplate),
    ],
)
def test_enroll_refuses_bad_input_and_leaves_the_gallery_unchanged(small, subject, template, error):
    gallery = filled_gallery(small)
    with pytest.raises(error):
        gallery.enroll(subject, template)
    assert gallery.count() == 200


def test_enroll_is_journaled_like_an_insert(tmp_path, population):
    template = template_at(population, 5).to_bytes()
    with Gallery(IrisMatcher(), directory=tmp_path, fsync=False, keys=KEYS) as gallery:
        assert gallery.enroll("P1", template).inserted
    with Gallery(IrisMatcher(), directory=tmp_path, fsync=False, keys=KEYS) as reopened:
        assert "P1" in reopened
        assert not reopened.enroll("P2", template).inserted


def test_enroll_over_http_answers_like_the_in_process_engine(tmp_path, population):
    with LocalAbis(tmp_path, fsync=False, keys=KEYS) as local:
        server = make_server(local, "127.0.0.1", 0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            remote = RemoteAbis(server.url)
            eyes = template_at(population, 1)
            first = remote.enroll("A", eyes.to_bytes(), top_k=3)
            assert first.inserted and first.count == 1
            second = remote.enroll("B", genuine_probe(eyes, seed=5).to_bytes(), top_k=3)
            assert not second.inserted
            assert second.identification.matches[0].subject_id == "A"
            assert local.count() == 1
            with pytest.raises(InvalidTemplate):
                remote.enroll("C", b"short")
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
