"""`ektp abis serve` runs the engine over HTTP; settings choose a remote or in-process ABIS."""

from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command

from ektp.abis.client import RemoteAbis
from ektp.abis.service import LocalAbis
from ektp.dedup.engine import abis_keys, get_engine
from ektp.dedup.management.commands.abis import Command
from tests.dedup.factories import subject


def _serve(tmp_path):
    command = Command()
    errors = []

    def run():
        try:
            call_command(command, "serve", "--port", "0", "--data-dir", str(tmp_path / "galeri"))
        except BaseException as error:  # reported to the test thread
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert command.ready.wait(timeout=60), errors
    return command, thread, errors


def test_serve_answers_on_an_ephemeral_port_and_keeps_the_gallery(tmp_path):
    command, thread, errors = _serve(tmp_path)
    remote = RemoteAbis(command.server.url)
    assert remote.ping()["status"] == "ok"
    assert remote.insert("penduduk-1", subject(1).to_bytes()) == 1
    command.server.shutdown()
    thread.join(timeout=60)
    assert not errors
    with LocalAbis(tmp_path / "galeri", keys=abis_keys()) as reopened:
        assert reopened.count() == 1


def test_settings_with_abis_url_talk_to_the_remote_service(tmp_path, settings):
    command, thread, _ = _serve(tmp_path)
    try:
        settings.ABIS_URL = command.server.url
        engine = get_engine()
        assert isinstance(engine, RemoteAbis)
        engine.insert("penduduk-2", subject(2).to_bytes())
        assert engine.identify(subject(2).to_bytes()).match
    finally:
        command.server.shutdown()
        thread.join(timeout=60)


def test_without_abis_url_the_engine_runs_in_process(settings):
    settings.ABIS_URL = None
    assert isinstance(get_engine(), LocalAbis)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--port", "70000"], "port harus bilangan bulat 0–65535"),
        (["serve", "--port", "delapan"], "port harus bilangan bulat"),
        (["serve", "--shards", "-1"], "jumlah shard harus bilangan bulat 0–1024"),
        (["serve", "--shards", "dua"], "jumlah shard harus bilangan bulat"),
        (["hapus"], "invalid choice"),
        ([], "required"),
    ],
)
def test_serve_refuses_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("abis", *args)


def test_serve_refuses_a_gallery_locked_by_another_process(tmp_path, settings):
    settings.ABIS_DATA_DIR = str(tmp_path / "galeri")
    get_engine()
    with pytest.raises(CommandError, match="tidak dapat dibuka"):
        call_command("abis", "serve", "--port", "0", "--data-dir", str(tmp_path / "galeri"))
