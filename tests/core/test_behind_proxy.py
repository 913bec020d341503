"""The app behind a real nginx on loopback, with the sample config of deploy/nginx/."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from ektp.core.models import AuditEvent
from tests.core.keyring import office_certificate, production_keys
from tests.core.test_serve import database_for_a_server, free_port

SAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "ektp.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PROXY_SOURCE = "127.0.0.2"  # nginx connects to the app from here (the trusted proxy)
CLIENT = "127.0.0.3"  # the browser connects to nginx from here


def nginx_config(tmp_path: Path, *, https_port: int, http_port: int, app_port: int) -> Path:
    """The sample config on free loopback ports, run by an unprivileged nginx in tmp_path."""
    key, cert = office_certificate(tmp_path)
    server = SAMPLE.read_text()
    for sample, here in {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "listen [::]:443 ssl;": "",
        "/etc/ssl/ektp/fullchain.pem": str(cert),
        "/etc/ssl/ektp/privkey.pem": str(key),
        "127.0.0.1:8000;": f"127.0.0.1:{app_port};\n        proxy_bind {PROXY_SOURCE};",
    }.items():
        assert sample in server, f"the sample no longer has {sample!r}"
        server = server.replace(sample, here)
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    user = "user root;" if os.geteuid() == 0 else ""
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"""daemon off;
{user}
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {tmp_path}/nginx-access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{server}
}}
"""
    )
    return config


def start(command: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    with log.open("w") as output:
        return subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        process.wait()


def request(
    port: int, method: str, path: str, *, tls: bool, body: dict | None = None, headers=None
) -> http.client.HTTPResponse:
    """One request from the client's own loopback address; redirects are not followed."""
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=10, context=context, source_address=(CLIENT, 0)
        )
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(CLIENT, 0))
    payload = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    conn.request(method, path, body=payload, headers=all_headers)
    response = conn.getresponse()
    response.text = response.read().decode()
    conn.close()
    return response


def wait_for(port: int, process: subprocess.Popen, log: Path, *, tls: bool) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            request(port, "GET", "/healthz", tls=tls)
            return
        except OSError:
            assert process.poll() is None, f"stopped:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no answer in 60 s:\n{log.read_text()}"
            time.sleep(0.2)


def failed_login_addresses(tmp_path: Path) -> list[str | None]:
    """The addresses the app wrote for failed logins (in the server's own database)."""
    if connection.vendor == "sqlite":
        with sqlite3.connect(tmp_path / "ektp.sqlite3") as db:
            rows = db.execute(
                f"SELECT ip_address FROM {AuditEvent._meta.db_table} "
                "WHERE action = 'login_failed' ORDER BY seq"
            ).fetchall()
        return [row[0] for row in rows]
    return list(
        AuditEvent.objects.filter(action="login_failed")
        .order_by("seq")
        .values_list("ip_address", flat=True)
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_app_behind_nginx_sees_https_and_the_client_address(tmp_path):
    if not os.path.exists(NGINX):
        pytest.fail(f"nginx not found at {NGINX}; `make proxy` installs Debian's nginx")
    app_port, https_port, http_port = free_port(), free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="ektp.settings",
        EKTP_VAR_DIR=str(tmp_path),
        EKTP_ENV="production",
        **production_keys(tmp_path / "kunci"),
        EKTP_TRUSTED_PROXIES=PROXY_SOURCE,
        **database_for_a_server(tmp_path),
    )
    app_log, nginx_log = tmp_path / "serve.log", tmp_path / "nginx.log"
    app = start(
        [sys.executable, "-m", "ektp", "serve", f"--port={app_port}", "--workers=1"],
        app_log,
        env,
    )
    proxy = None
    try:
        wait_for(app_port, app, app_log, tls=False)
        config = nginx_config(
            tmp_path, https_port=https_port, http_port=http_port, app_port=app_port
        )
        proxy = start(
            [
                NGINX,
                "-p",
                str(tmp_path),
                "-e",
                str(tmp_path / "nginx-error.log"),
                "-c",
                str(config),
            ],
            nginx_log,
        )
        wait_for(https_port, proxy, nginx_log, tls=True)

        # Straight to the app over http: production redirects to https...
        direct = request(app_port, "GET", "/cek/", tls=False)
        assert direct.status == 301
        assert direct.getheader("Location").startswith("https://")
        # ...and a client that claims https itself is not believed.
        spoofed = request(
            app_port, "GET", "/cek/", tls=False, headers={"X-Forwarded-Proto": "https"}
        )
        assert spoofed.status == 301

        # Through nginx over TLS: the page itself (no redirect loop), with HSTS.
        page = request(https_port, "GET", "/cek/", tls=True)
        assert page.status == 200, page.text[:500]
        assert "Cek status KTP-el" in page.text
        assert page.getheader("Strict-Transport-Security", "").startswith("max-age=31536000")
        # nginx's plain-http server sends browsers to https.
        plain = request(http_port, "GET", "/cek/", tls=False)
        assert plain.status == 301 and plain.getheader("Location").startswith("https://")

        # The app sees the client's address, not nginx's, even when the client forges one.
        for headers in ({}, {"X-Forwarded-For": "203.0.113.9"}):
            refused = request(
                https_port,
                "POST",
                "/api/v1/auth/token",
                tls=True,
                body={"username": "tidak-ada", "password": "salah"},
                headers=headers,
            )
            assert refused.status == 401, refused.text
        assert failed_login_addresses(tmp_path) == [CLIENT, CLIENT]
    finally:
        if proxy is not None:
            stop(proxy)
        stop(app)
