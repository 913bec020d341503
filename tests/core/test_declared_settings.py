"""Every setting is declared once in EktpSettings, and read only through it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from ektp.core.settings_doc import generated_files
from ektp.settings import EktpSettings

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "src" / "ektp"

ENVIRONMENT_NAMES = {"environ", "environb", "getenv", "getenvb"}
# Modules that read the environment themselves, and why.
ENVIRONMENT_READERS = {
    "settings.py": "the settings module itself",
    "asgi.py": "names the settings module before any setting can be read",
    "wsgi.py": "names the settings module before any setting can be read",
    "__main__.py": "names the settings module before any setting can be read",
    "core/keys.py": "the key store has no Django (settings.py reads SECRET_KEY through it); "
    "the variables it reads are declared in EktpSettings",
    "abis/sealing.py": "a standalone `ektp abis serve` reads EKTP_ABIS_KEY without Django",
    "core/backup.py": "hands the process environment on to pg_dump and pg_restore",
    "core/management/commands/db_worker.py": "Django's autoreloader variable, no setting",
}
# Modules still reading settings with getattr and a second default, and why.
GETATTR_READERS: dict[str, str] = {}


def _modules():
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        yield path.relative_to(SOURCE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _reads_environment(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ENVIRONMENT_NAMES
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and {alias.name for alias in node.names} & ENVIRONMENT_NAMES
        ):
            return True
    return False


def _getattr_on_settings(tree: ast.AST) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and node.args
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id == "settings"
    ]


def test_the_generated_settings_docs_match_the_declarations():
    for relative, text in generated_files().items():
        committed = (REPO / relative).read_text(encoding="utf-8")
        assert committed == text, f"{relative} is stale: run `ektp settings_doc`"


def test_settings_doc_check_refuses_a_stale_file(tmp_path):
    call_command("settings_doc", root=str(tmp_path))
    call_command("settings_doc", root=str(tmp_path), check=True)  # just written: in step
    (tmp_path / ".env.example").write_text("# EKTP_DEBUG=true\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"\.env\.example"):
        call_command("settings_doc", root=str(tmp_path), check=True)


def test_every_declared_setting_is_in_the_docs():
    markdown = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    for name in EktpSettings.model_fields:
        assert f"`EKTP_{name.upper()}`" in markdown or name in {
            "database_url",
            "redis_url",
            "cache_url",
        }, name


def test_no_module_reads_the_environment_outside_the_settings_module():
    readers = {name for name, tree in _modules() if _reads_environment(tree)}
    unexplained = readers - set(ENVIRONMENT_READERS)
    assert not unexplained, f"read the setting in ektp/settings.py instead: {sorted(unexplained)}"


def test_no_setting_is_read_with_a_second_default():
    found = {
        name: lines
        for name, tree in _modules()
        if name not in GETATTR_READERS and (lines := _getattr_on_settings(tree))
    }
    assert not found, f"declare the setting in ektp/settings.py and read settings.X: {found}"


def test_every_setting_the_code_reads_is_defined():
    names = set()
    for _, tree in _modules():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "settings"
                and node.attr.isupper()
            ):
                names.add(node.attr)
    # Production-only settings (the HTTPS redirect and HSTS) default in Django itself.
    assert sorted(name for name in names if not hasattr(settings, name)) == []


def test_an_older_unprefixed_name_still_works_and_the_prefixed_one_wins(monkeypatch):
    monkeypatch.setenv("ABIS_URL", "http://127.0.0.1:8100")
    monkeypatch.setenv("APPOINTMENTS_HORIZON_DAYS", "14")
    assert EktpSettings().abis_url == "http://127.0.0.1:8100"
    assert EktpSettings().appointments_horizon_days == 14
    monkeypatch.setenv("EKTP_ABIS_URL", "http://127.0.0.1:8200")
    assert EktpSettings().abis_url == "http://127.0.0.1:8200"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("yes", True), (" On ", True), ("0", False), ("no", False), ("nonsense", False)],
)
def test_a_yes_no_setting_reads_as_before(monkeypatch, value, expected):
    monkeypatch.setenv("EKTP_HSTS_PRELOAD", value)
    assert EktpSettings().hsts_preload is expected


def test_a_list_setting_is_comma_separated(monkeypatch):
    monkeypatch.setenv("EKTP_TRUSTED_PROXIES", " 127.0.0.1, 10.0.0.0/8 ,,")
    assert EktpSettings().trusted_proxies == ["127.0.0.1", "10.0.0.0/8"]
    monkeypatch.setenv("EKTP_TRUSTED_PROXIES", "")
    assert EktpSettings().trusted_proxies == []


def test_a_malformed_number_stops_the_start(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import ektp.settings as ektp_settings

    monkeypatch.setenv("EKTP_TASK_MAX_RUNS", "three")
    try:
        with pytest.raises(ImproperlyConfigured, match="task_max_runs"):
            importlib.reload(ektp_settings)
    finally:
        monkeypatch.delenv("EKTP_TASK_MAX_RUNS")
        importlib.reload(ektp_settings)
