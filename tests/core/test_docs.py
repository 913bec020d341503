"""The docs show only commands that exist: every `ektp …` and `make …` in docs/ and the README."""

from __future__ import annotations

import io
import re
from importlib.util import find_spec
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError

REPO = Path(__file__).resolve().parents[2]
PAGES = [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]

_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
_SPAN = re.compile(r"`([^`\n]+)`")
_EKTP = re.compile(r"(?:^|[ \t;&|(])(?:\S*/)?ektp[ \t]+([a-z][\w-]*)(?:[ \t]+([a-z][\w-]*))?", re.M)
_MAKE = re.compile(r"(?:^|[ \t;&|(])make[ \t]+([a-z][\w-]*)", re.M)
_COMMENT = re.compile(r"(?:^|[ \t])#.*$", re.M)
# Commands of Django's command-line utility itself rather than of an app.
UTILITY_COMMANDS = {"help"}
# Commands of a library that ektp installs only when a setting asks for it; each must exist in
# the installed library. rqworker: django-rq's, with EKTP_TASK_BACKEND=rq.
SETTING_COMMANDS = {"rqworker": "django_rq.management.commands.rqworker"}
_TARGET = re.compile(r"^([a-z][\w-]*):", re.M)


def _code(text: str) -> list[str]:
    """Return what the page shows as code: fenced blocks and inline spans."""
    blocks = _FENCE.findall(text)
    return blocks + _SPAN.findall(_FENCE.sub("", text))


def _shown(pattern: re.Pattern) -> set[tuple]:
    found = set()
    for page in PAGES:
        for code in _code(page.read_text(encoding="utf-8")):
            for match in pattern.findall(_COMMENT.sub("", code)):
                found.add((page.name, *((match,) if isinstance(match, str) else match)))
    return found


def test_the_pages_show_commands_at_all():
    assert len(_shown(_EKTP)) > 20 and len(_shown(_MAKE)) > 4


def test_every_ektp_command_shown_exists():
    commands = set(get_commands()) | UTILITY_COMMANDS
    commands |= {name for name, module in SETTING_COMMANDS.items() if find_spec(module)}
    missing = sorted({(page, name) for page, name, _ in _shown(_EKTP) if name not in commands})
    assert not missing, missing


def test_every_subcommand_shown_exists():
    commands = get_commands()
    wrong = []
    for page, name, word in sorted(_shown(_EKTP)):
        if not word or name not in commands:
            continue
        parser = load_command_class(commands[name], name).create_parser("ektp", name)
        try:
            parser.parse_args([word])
        except CommandError as error:  # only a word the command does not know counts
            if "invalid choice" in str(error):
                wrong.append((page, name, word))
    assert not wrong, wrong


def test_every_make_target_shown_exists():
    targets = set(_TARGET.findall((REPO / "Makefile").read_text(encoding="utf-8")))
    missing = sorted({(page, target) for page, target in _shown(_MAKE) if target not in targets})
    assert not missing, missing


def test_a_wrong_command_would_be_caught():
    assert ("x.md", "kyes", "status") in {
        ("x.md", *match) for match in _EKTP.findall("`.venv/bin/ektp kyes status`")
    }
    assert "kyes" not in get_commands()


def test_keys_status_runs_as_shown():
    out = io.StringIO()
    call_command("keys", "status", stdout=out)
    assert "EKTP_SECRET_KEY" in out.getvalue()


@pytest.mark.django_db
def test_audit_verify_runs_as_shown():
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue().strip()


@pytest.mark.django_db
def test_settings_doc_check_runs_as_shown():
    call_command("settings_doc", root=str(REPO), check=True)
