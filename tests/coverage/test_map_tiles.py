"""The zone map draws a base layer only when the office configured a tile server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.test import override_settings

from ektp.core.models import Role

TILES = "https://tiles.example.org/{z}/{x}/{y}.png"
CSP = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']))"
)


def _settings_of(tmp_path, **env_changes):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "EKTP_"))}
    env.update(DJANGO_SETTINGS_MODULE="ektp.settings", EKTP_VAR_DIR=str(tmp_path / "var"))
    env.update(env_changes)
    return subprocess.run(
        [sys.executable, "-c", CSP], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.django_db
def test_no_tile_layer_unless_configured(client, make_staff):
    client.force_login(make_staff(Role.SUPERVISOR, region="18.09"))
    assert "data-tiles" not in client.get("/cakupan/").content.decode()
    with override_settings(EKTP_MAP_TILE_URL=TILES):
        html = client.get("/cakupan/").content.decode()
    assert f'data-tiles="{TILES}"' in html


def test_a_tile_server_is_allowed_by_the_content_policy_only_when_set(tmp_path):
    plain = _settings_of(tmp_path)
    assert plain.returncode == 0, plain.stderr[-2000:]
    directives = json.loads(plain.stdout.strip().splitlines()[-1])
    assert directives["img-src"] == ["'self'", "data:"]
    assert "worker-src" not in directives
    tiled = _settings_of(tmp_path, EKTP_MAP_TILE_URL=TILES)
    directives = json.loads(tiled.stdout.strip().splitlines()[-1])
    assert "https://tiles.example.org" in directives["img-src"]
    assert "https://tiles.example.org" in directives["connect-src"]
    assert directives["worker-src"] == ["'self'", "blob:"]
    bad = _settings_of(tmp_path, EKTP_MAP_TILE_URL="tiles.example.org/{z}/{x}/{y}.png")
    assert bad.returncode != 0
    assert "EKTP_MAP_TILE_URL" in bad.stderr
