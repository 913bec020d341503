"""A real local HTTP server that records requests, and settings for the channels."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class RecordingServer:
    """An HTTP server on loopback that records every request and answers from a script."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: list[tuple[int, bytes]] = []
        self.default = (
            200,
            b'{"messaging_product": "whatsapp", "messages": [{"id": "wamid.UJI"}]}',
        )
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                    }
                )
                status, answer = server.answers.pop(0) if server.answers else server.default
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def http_server():
    server = RecordingServer()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _outbox_dir(settings, tmp_path):
    settings.NOTIFICATIONS_OUTBOX_DIR = tmp_path / "outbox"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="session")
def notifications_key_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("notifications-suket-keys")


@pytest.fixture(autouse=True)
def _suket_keys(settings, notifications_key_dir):
    settings.EKTP_SUKET_QR_KEY = str(notifications_key_dir / "qr.pem")
    settings.EKTP_SUKET_SIGNING_KEY = str(notifications_key_dir / "key.pem")
    settings.EKTP_SUKET_SIGNING_CERT = str(notifications_key_dir / "cert.pem")


IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
