"""Load the public status page with concurrent clients, next to a bare Django view.

    [DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres] [EKTP_CACHE=host|database] \
        [REDIS_URL=redis://…] \
        python bench/status.py [--residents 50000] [--clients 100] [--seconds 30] \
        [--server granian|gunicorn] [--workers N] [--threads N] [--worker-class gthread|sync]

Builds a throwaway database (PostgreSQL `ektp_bench_status` when DATABASE_URL points
at a server, otherwise a temporary SQLite file), seeds Kabupaten Pesawaran (18.09) with
`--residents` synthetic people (0 = its real population), and serves the project on
loopback with `--workers` processes (default one per core).

`--server granian` (the default) starts `ektp serve`, the command production runs, with
`--threads` blocking (Python) threads per worker (default 1, as `ektp serve`); granian's
own threads keep the clients' connections open. `--server gunicorn` is the comparison:
`--threads` threads per gthread worker (default 8, keep-alive connections), or with
`--worker-class sync` one-request-at-a-time workers (they close the connection after
each answer, so every request also opens one). The rate-limit counters go to the
configured shared cache: the host's diskcache files by default, the database table with
EKTP_CACHE=database, Redis when REDIS_URL is set.

The load comes from a second process, `wrk` (installed with apt-get when missing), with a
Lua script: `--clients` keep-alive connections for `--seconds` seconds, each posting the
NIK and birth date of a random seeded resident to /cek/ with the CSRF cookie and token that
a GET of the page handed out, exactly as a phone would; every answer must be 200 and name
a stage. wrk is written in C and needs a fraction of a core for 1,000+ requests per second,
where a Python client loop would take a whole core from the server on a small machine. If
wrk cannot be had, an asyncio/aiohttp client does the same (and the figures say so).

Reference, measured in the same run against the same server, middleware and CSRF: a
bare view that reads the same POST and answers "ok". The ratio shows what the inquiry
itself costs (rate-limit counters, form, resident lookup, template). Rate limits are raised
in these settings only, so that the benchmark measures the page, not the 429.

The load is a closed loop: by Little's law the mean latency is clients / rate, so with 100
clients a p99 under 100 ms needs well over 1,000 answers per second.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from benchdb import use_fresh_database

ROOT = Path(__file__).resolve().parent.parent
# bench/ holds scripts named like libraries (coverage.py): keep it off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT / "src"))
BENCH_DB = "ektp_bench_status"

BENCH_SETTINGS = """
from ektp.settings import *  # noqa: F403
ROOT_URLCONF = "bench_status_urls"
PORTAL_RATE_PER_IP = "100000000/10m"
PORTAL_RATE_PER_NIK = "100000000/h"
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


WRK_SCRIPT = r"""
-- POST a random seeded (NIK, birth date) with the CSRF cookie and token of one GET.
local people = {}
for line in io.lines(os.getenv("BENCH_PEOPLE")) do people[#people + 1] = line end
local path, check = os.getenv("BENCH_PATH"), os.getenv("BENCH_CHECK") or ""
local form = "csrfmiddlewaretoken=" .. os.getenv("BENCH_TOKEN") .. "&"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  failures = 0
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = "csrftoken=" .. os.getenv("BENCH_COOKIE")
end
function request()
  return wrk.format(nil, path, nil, form .. people[math.random(#people)])
end
function response(status, headers, body)
  if status ~= 200 or (check ~= "" and not body:find(check, 1, true)) then
    failures = failures + 1
  end
end
function done(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do failed = failed + t:get("failures") end
  local e = summary.errors
  io.write(string.format(
    '{"n": %d, "seconds": %f, "p50": %f, "p99": %f, "failures": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    failed + e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def find_wrk() -> str | None:
    """Return the path of wrk, installing Debian's package when possible."""
    found = shutil.which("wrk")
    if found or not shutil.which("apt-get") or os.geteuid() != 0:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True)
    return shutil.which("wrk")


def csrf_pair(base: str) -> tuple[str, str]:
    """GET the page once, as a phone does: return (cookie secret, form token)."""
    import re

    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/cek/", timeout=30).read()
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    cookie = next(c.value for c in jar if c.name == "csrftoken")
    return cookie, token


def load_wrk(wrk: str, base: str, path: str, clients: int, seconds: float, tmp: Path) -> dict:
    script = tmp / "post.lua"
    script.write_text(WRK_SCRIPT)
    cookie, token = csrf_pair(base)
    env = {
        **os.environ,
        "BENCH_PEOPLE": str(tmp / "people.txt"),
        "BENCH_PATH": path,
        "BENCH_CHECK": "steps" if path == "/cek/" else "",
        "BENCH_COOKIE": cookie,
        "BENCH_TOKEN": token,
    }
    command = [wrk, "-t2", f"-c{clients}", f"-d{seconds:.0f}s", "--timeout", "10s"]
    out = subprocess.run(
        [*command, "-s", str(script), base], capture_output=True, text=True, env=env
    )
    if out.returncode:
        raise SystemExit(out.stderr[-2000:] or out.stdout[-2000:])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["rps"] = result["n"] / result["seconds"]
    return result


def load_python(base: str, path: str, clients: int, seconds: float, tmp: Path) -> dict:
    script = tmp / "load.py"
    script.write_text(LOAD)
    command = [sys.executable, str(script), base, path, str(clients), str(seconds)]
    out = subprocess.run([*command, str(tmp / "people.json")], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_server(
    server: str, port: int, worker_class: str, workers: int, threads: int, tmp: Path
) -> subprocess.Popen:
    """Start the server (granian through `ektp serve`, or gunicorn) and wait until it answers."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp), str(ROOT / "src")])}
    if server == "granian":
        command = [
            sys.executable, "-m", "ektp", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--blocking-threads", str(threads),
            "--log-level", "warning",
        ]  # fmt: skip
    else:
        command = [
            sys.executable, "-m", "gunicorn", "ektp.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--worker-class", worker_class,
            "--workers", str(workers), "--threads", str(threads),
            "--backlog", "2048", "--keep-alive", "30", "--log-level", "warning",
        ]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=tmp)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/cek/", timeout=5).read()
            return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"{server} stopped with exit code {process.returncode}") from None
            time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"{server} did not answer within 60 s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    from ektp.core.management.commands.serve import cpu_cores

    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--server", choices=["granian", "gunicorn"], default="granian")
    parser.add_argument("--workers", type=int, default=cpu_cores(), help="default: one per core")
    parser.add_argument(
        "--threads",
        type=int,
        help="per worker: granian's blocking threads (default 1, as `ektp serve`) or "
        "gunicorn's gthread threads (default 8)",
    )
    parser.add_argument(
        "--worker-class", choices=["gthread", "sync"], default="gthread", help="gunicorn only"
    )
    args = parser.parse_args()
    if args.threads is None:
        args.threads = 1 if args.server == "granian" else 8
    if args.server == "granian":
        plural = "s" if args.threads > 1 else ""
        served = (
            f"granian (ektp serve) {args.workers} workers x {args.threads} blocking thread{plural}"
        )
    elif args.worker_class == "gthread":
        served = f"gunicorn gthread {args.workers} workers x {args.threads} threads"
    else:
        served = f"gunicorn sync {args.workers} workers"
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
        from django.conf import settings
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
        (tmp / "people.json").write_text(json.dumps([[n, b.strftime("%d-%m-%Y")] for n, b in rows]))
        (tmp / "people.txt").write_text(
            "".join(f"nik={n}&birth_date={b:%d-%m-%Y}\n" for n, b in rows)
        )
        from django.db import connections

        connections.close_all()
        cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]

        wrk = find_wrk()
        client = "wrk" if wrk else "aiohttp (Python; shares the CPU with the server)"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(args.server, port, args.worker_class, args.workers, args.threads, tmp)

        def run(path: str, clients: int, seconds: float) -> dict:
            if wrk:
                return load_wrk(wrk, base, path, clients, seconds, tmp)
            return load_python(base, path, clients, seconds, tmp)

        try:
            run("/bare/", 10, 5)  # warm up every worker and thread
            run("/cek/", 10, 5)
            bare = run("/bare/", args.clients, args.seconds)
            page = run("/cek/", args.clients, args.seconds)
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        print(
            f"{engine}, cache {cache}, {seeded} residents, {args.clients} clients, "
            f"{args.seconds:.0f} s, {served}, load from {client}"
        )
        for name, r in (("bare view", bare), ("status page", page)):
            print(
                f"{name:12} {r['rps']:8.0f} req/s  p50 {r['p50']:6.1f} ms  "
                f"p99 {r['p99']:6.1f} ms  ({r['n']} requests, {r['failures']} failed)"
            )
        print(f"status page / bare view: {page['rps'] / bare['rps']:.2f} of the rate")
        print(
            f"Little's law: {args.clients} clients / {page['rps']:.0f} req/s = "
            f"{1000 * args.clients / page['rps']:.0f} ms mean wait on the status page"
        )
    return 0 if not (bare["failures"] or page["failures"]) else 1


if __name__ == "__main__":
    sys.exit(main())
