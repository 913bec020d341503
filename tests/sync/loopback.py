"""Loopback plumbing for the two-node test: a TCP proxy that can be down or cut a connection
after a number of bytes, and a handle on an edge node process."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path


class CuttingProxy:
    """Forward 127.0.0.1:<port> to a target; `down` refuses every connection, `cut_after`
    drops the first connection that has carried that many bytes towards the target."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.down = False
        self.cuts = 0
        self._remaining: int | None = None
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def cut_after(self, count: int) -> None:
        """Drop the connection that carries the count-th byte towards the target (once)."""
        with self._lock:
            self._remaining = count

    def _take(self, size: int) -> int | None:
        """Return how many of `size` bytes may pass before the cut, or None for all."""
        with self._lock:
            if self._remaining is None:
                return None
            if size < self._remaining:
                self._remaining -= size
                return None
            allowed, self._remaining = self._remaining, None
            self.cuts += 1
            return allowed

    def _serve(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.down:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()  # a reset: as if no signal
                continue
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        done = threading.Event()

        def forward(source, sink, counted):
            try:
                while not done.is_set():
                    data = source.recv(4096)
                    if not data:
                        break
                    allowed = self._take(len(data)) if counted else None
                    if allowed is not None:
                        sink.sendall(data[:allowed])
                        break
                    sink.sendall(data)
            except OSError:
                pass
            done.set()
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        threads = [
            threading.Thread(target=forward, args=(client, upstream, True), daemon=True),
            threading.Thread(target=forward, args=(upstream, client, False), daemon=True),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        client.close()
        upstream.close()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(2)


class EdgeProcess:
    """`python -m tests.sync.edge_node` with its own var directory and SQLite database."""

    def __init__(self, home: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(
            DJANGO_SETTINGS_MODULE="tests.sync.edge_settings",
            EKTP_VAR_DIR=str(home),
            EKTP_NODE_ID="edge-uji",
        )
        root = Path(__file__).resolve().parents[2]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.sync.edge_node"],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self._answer()
        assert ready["ok"], ready

    def _answer(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"edge process ended ({self.process.poll()})")
        return json.loads(line)

    def run(self, command: str) -> dict:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
