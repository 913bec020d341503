import base64
import json
import threading
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from ektp.abis import kernels, synthetic
from ektp.abis.client import RemoteAbis, get_abis
from ektp.abis.errors import (
    AbisUnavailable,
    DuplicateSubject,
    InvalidRequest,
    InvalidTemplate,
    UnknownModality,
    UnknownSubject,
)
from ektp.abis.service import LocalAbis, make_server

from .factories import KEYS, genuine_probe, subject_id, template_at


@pytest.fixture
def local(tmp_path):
    with LocalAbis(tmp_path, fsync=False, keys=KEYS) as abis:
        yield abis


@pytest.fixture
def server(local):
    server = make_server(local, "127.0.0.1", 0, max_body=64 * 1024)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def remote(server):
    return RemoteAbis(server.url)


def raw_request(server, method, path, body=None, headers=None):
    request = Request(server.url + path, data=body, method=method, headers=headers or {})
    try:
        with urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except HTTPError as error:
        try:
            return error.code, json.loads(error.read())
        finally:
            error.close()


def test_remote_abis_round_trip(remote, population):
    assert remote.ping()["status"] == "ok"
    for index in range(50):
        assert remote.insert(subject_id(index), population[index].tobytes()) == index + 1
    assert remote.count() == 50

    probe = genuine_probe(template_at(population, 30), seed=1)
    result = remote.identify(probe.to_bytes(), top_k=3)
    assert result.match is True
    assert result.candidates[0].subject_id == subject_id(30)
    assert len(result.candidates) == 3
    assert result.gallery_size == 50

    assert remote.delete(subject_id(30)) == 49
    assert remote.identify(probe.to_bytes()).match is False
    assert remote.pending() == 0


def test_local_and_remote_abis_give_the_same_answer(local, remote, population):
    for index in range(20):
        local.insert(subject_id(index), population[index].tobytes())
    probe = genuine_probe(template_at(population, 4), seed=2).to_bytes()

    assert remote.identify(probe, top_k=7) == local.identify(probe, top_k=7)
    assert remote.count() == local.count() == 20


def test_pending_counts_a_search_waiting_for_the_scanner(local, remote, population):
    for index in range(kernels.PARALLEL_MIN_ROWS):
        local.insert(subject_id(index), population[index].tobytes())
    answers = []
    with kernels.SCAN_LOCK:
        search = threading.Thread(
            target=lambda: answers.append(remote.identify(population[0].tobytes()))
        )
        search.start()
        for _ in range(200):
            if remote.pending() == 1:
                break
            threading.Event().wait(0.01)
        assert remote.pending() == 1
    search.join(timeout=10)

    assert answers[0].match is True
    assert remote.pending() == 0


def test_malformed_json_is_answered_400_with_a_message(server):
    status, answer = raw_request(server, "POST", "/identify", b'{"template": ', {})

    assert status == 400
    assert answer["error"] == "invalid_request"
    assert answer["message"].startswith("malformed JSON")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[1, 2]", "must be a JSON object"),
        (b"{}", "missing field(s): template"),
        (b'{"template": "AAAA", "colour": 1}', "unknown field(s): colour"),
        (b'{"template": "not base64!"}', "not valid base64"),
        (b'{"template": 12}', "base64 string"),
        (b'{"template": "AAAA", "top_k": NaN}', "malformed JSON"),
        (b"\xff\xfe", "malformed JSON"),
    ],
)
def test_bad_identify_bodies_are_answered_400(server, body, message):
    status, answer = raw_request(server, "POST", "/identify", body)

    assert status == 400
    assert message in answer["message"]


def test_wrong_template_length_is_rejected(server, remote):
    short = base64.b64encode(bytes(1000)).decode()
    status, answer = raw_request(
        server, "POST", "/insert", json.dumps({"subject_id": "a", "template": short}).encode()
    )

    assert (status, answer["error"]) == (400, "invalid_template")
    assert "1024 bytes" in answer["message"]
    with pytest.raises(InvalidTemplate, match="1024 bytes"):
        remote.identify(bytes(1025))
    assert remote.count() == 0


def test_delete_of_an_unknown_subject_is_answered_404(server, remote):
    status, answer = raw_request(server, "POST", "/delete", b'{"subject_id": "ghost"}')

    assert (status, answer["error"]) == (404, "unknown_subject")
    with pytest.raises(UnknownSubject, match="ghost"):
        remote.delete("ghost")


def test_duplicate_insert_is_answered_409(remote, population):
    remote.insert("S1", population[1].tobytes())

    with pytest.raises(DuplicateSubject, match="S1"):
        remote.insert("S1", population[2].tobytes())
    assert remote.count() == 1


def test_unknown_modality_and_bad_top_k_are_rejected(remote, population):
    with pytest.raises(UnknownModality, match="fingerprint"):
        remote.count(modality="fingerprint")
    with pytest.raises(InvalidRequest, match="top_k"):
        remote.identify(population[0].tobytes(), top_k=0)


def test_unknown_path_and_wrong_method_are_refused(server):
    assert raw_request(server, "GET", "/nowhere")[0] == 404
    assert raw_request(server, "GET", "/identify")[0] == 405
    assert raw_request(server, "POST", "/ping", b"{}")[0] == 405
    assert raw_request(server, "DELETE", "/delete")[0] == 405


def test_oversized_body_is_answered_413(server):
    status, answer = raw_request(server, "POST", "/identify", b" " * (64 * 1024 + 1))

    assert (status, answer["error"]) == (413, "request_too_large")


def test_unreachable_abis_raises_unavailable(server):
    url = server.url
    server.shutdown()
    server.server_close()

    with pytest.raises(AbisUnavailable):
        RemoteAbis(url, timeout=2).ping()


def test_get_abis_is_remote_for_a_url_and_local_otherwise(tmp_path):
    assert isinstance(get_abis("http://abis.example:8900/"), RemoteAbis)
    with get_abis(None, tmp_path, fsync=False, keys=KEYS) as local:
        assert isinstance(local, LocalAbis)
        assert local.count() == 0


def test_remote_abis_refuses_a_url_without_http_scheme():
    with pytest.raises(ValueError, match="http"):
        RemoteAbis("abis.example:8900")


def test_local_abis_survives_a_restart_through_checkpoint(tmp_path):
    subject = synthetic.make_subject(8)
    with LocalAbis(tmp_path, fsync=False, keys=KEYS) as abis:
        abis.insert("S8", subject.to_bytes())
        abis.checkpoint()
        abis.insert("S9", synthetic.make_subject(9).to_bytes())

    with LocalAbis(tmp_path, fsync=False, keys=KEYS) as abis:
        assert abis.count() == 2
        assert abis.identify(subject.to_bytes()).candidates[0].subject_id == "S8"


def test_a_standalone_service_takes_its_key_from_the_environment(tmp_path, monkeypatch):
    from ektp.abis.sealing import keys_from_environment, new_key
    from ektp.abis.service import serve

    monkeypatch.delenv("EKTP_ABIS_KEY", raising=False)
    with pytest.raises(ValueError, match="EKTP_ABIS_KEY"):
        serve(port=0, data_dir=tmp_path)
    assert not list(tmp_path.iterdir())
    key = new_key()
    assert len(keys_from_environment({"EKTP_ABIS_KEY": f"{key},{new_key()}"})) == 2
    with pytest.raises(ValueError, match="32 bytes"):
        keys_from_environment({"EKTP_ABIS_KEY": key[:-4]})
