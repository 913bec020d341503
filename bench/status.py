"""Load the public status page with concurrent clients, next to a bare Django view.

    [DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres] python bench/status.py \
        [--residents 50000] [--clients 100] [--seconds 30] [--workers N]

Builds a throwaway database (PostgreSQL `ektp_bench_status` when DATABASE_URL points
at a server, otherwise a temporary SQLite file), seeds Kabupaten Pesawaran (18.09) with
`--residents` synthetic people (0 = its real population), and serves the project from a
prefork WSGI server on loopback (`--workers` processes, each with a pool of 8 threads). A second process
runs `--clients` concurrent HTTP clients for `--seconds` seconds, each posting NIK and
birth date of random seeded residents to /cek/ with its CSRF token, exactly as a phone
would; every answer must be 200 and name a stage.

Reference, measured in the same run against the same server, middleware and CSRF: a
bare view that reads the same POST and answers "ok". The ratio shows what the inquiry
itself costs (form, rate-limit counters, resident lookup, card/suket/booking reads,
template). Rate limits are raised so that the benchmark measures the page, not the 429.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchdb import use_fresh_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
BENCH_DB = "ektp_bench_status"
THREADS = 8

BENCH_SETTINGS = """
from ektp.settings import *  # noqa: F403
ROOT_URLCONF = "bench_status_urls"
PORTAL_RATE_PER_IP = "100000000/s"
PORTAL_RATE_PER_NIK = "100000000/s"
LOGGING = {"version": 1, "disable_existing_loggers": True}
"""
BENCH_URLS = """
from django.http import HttpResponse
from django.urls import path

from ektp.urls import urlpatterns as project


def bare(request):
    request.POST.get("nik")
    return HttpResponse("ok")


urlpatterns = [path("bare/", bare), *project]
"""


def serve(sock: socket.socket) -> None:
    """Serve the project on an inherited socket in one worker process (threaded)."""
    from concurrent.futures import ThreadPoolExecutor
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    class Server(WSGIServer):
        """Hand each connection to a fixed pool of threads, as gunicorn's gthread does,
        so that database connections stay bounded and are reused."""

        request_queue_size = 1024
        pool = ThreadPoolExecutor(max_workers=THREADS)

        def process_request(self, request, client_address):
            self.pool.submit(self._handle, request, client_address)

        def _handle(self, request, client_address):
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)

    server = Server(sock.getsockname(), Quiet, bind_and_activate=False)
    server.socket = sock
    server.server_name, server.server_port = "127.0.0.1", sock.getsockname()[1]
    server.setup_environ()
    server.set_app(get_wsgi_application())
    server.serve_forever()


LOAD = r"""
import asyncio, json, random, re, sys, time
import aiohttp

base, path, clients, seconds, people_file = sys.argv[1:6]
clients, seconds = int(clients), float(seconds)
people = json.load(open(people_file))
TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


async def client(latencies, failures, deadline):
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(base + "/cek/") as r:
            token = TOKEN.search(await r.read()).group(1).decode()
        rnd = random.Random()
        while time.perf_counter() < deadline:
            nik, born = rnd.choice(people)
            started = time.perf_counter()
            async with session.post(
                base + path, data={"csrfmiddlewaretoken": token, "nik": nik, "birth_date": born}
            ) as r:
                body = await r.read()
            latencies.append(time.perf_counter() - started)
            if r.status != 200 or (path == "/cek/" and b"steps" not in body):
                failures.append(r.status)


async def main():
    latencies, failures = [], []
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(client(latencies, failures, deadline) for _ in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: 0 if not latencies else latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(json.dumps({"n": len(latencies), "rps": len(latencies) / elapsed, "p50": pick(0.5),
                      "p99": pick(0.99), "failures": len(failures)}))

asyncio.run(main())
"""


def load(base: str, path: str, clients: int, seconds: float, people: Path, tmp: Path) -> dict:
    script = tmp / "load.py"
    script.write_text(LOAD)
    out = subprocess.run(
        [sys.executable, str(script), base, path, str(clients), str(seconds), str(people)],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    with tempfile.TemporaryDirectory(prefix="ektp-bench-status-") as tmpdir:
        tmp = Path(tmpdir)
        (tmp / "bench_status_settings.py").write_text(BENCH_SETTINGS)
        (tmp / "bench_status_urls.py").write_text(BENCH_URLS)
        sys.path.insert(0, str(tmp))
        os.environ.update(
            EKTP_VAR_DIR=str(tmp / "var"), DJANGO_SETTINGS_MODULE="bench_status_settings"
        )
        use_fresh_database(BENCH_DB)
        import django

        django.setup()
        from django.core.management import call_command

        from ektp.residents.models import Resident

        call_command("migrate", verbosity=0)
        seed = ["seed", "--region", "18.09", "--no-progress"]
        if args.residents:
            seed += ["--residents", str(args.residents)]
        started = time.perf_counter()
        call_command(*seed)
        seeded = Resident.objects.count()
        print(f"seeded {seeded} residents in {time.perf_counter() - started:.0f} s")
        rows = list(Resident.objects.order_by("?").values_list("nik", "birth_date")[:20_000])
        people = tmp / "people.json"
        people.write_text(json.dumps([[n, b.strftime("%d-%m-%Y")] for n, b in rows]))
        from django.db import connections

        connections.close_all()

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        context = multiprocessing.get_context("fork")
        workers = [
            context.Process(target=serve, args=(sock,), daemon=True) for _ in range(args.workers)
        ]
        for worker in workers:
            worker.start()
        try:
            load(base, "/bare/", 10, 5, people, tmp)  # warm up every worker
            load(base, "/cek/", 10, 5, people, tmp)
            bare = load(base, "/bare/", args.clients, args.seconds, people, tmp)
            page = load(base, "/cek/", args.clients, args.seconds, people, tmp)
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.join()
        engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        print(
            f"{engine}, {seeded} residents, {args.clients} clients, {args.seconds:.0f} s, "
            f"{args.workers} workers"
        )
        for name, r in (("bare view", bare), ("status page", page)):
            print(
                f"{name:12} {r['rps']:8.0f} req/s  p50 {r['p50']:6.1f} ms  "
                f"p99 {r['p99']:6.1f} ms  ({r['n']} requests, {r['failures']} failed)"
            )
        print(f"status page / bare view: {page['rps'] / bare['rps']:.2f} of the rate")
    return 0 if not (bare["failures"] or page["failures"]) else 1


if __name__ == "__main__":
    sys.exit(main())
