"""Time every page of every demo role's menu on a seeded district, next to a bare view.

    EKTP_VAR_DIR=var/bench-pages [DATABASE_URL=postgres://…/ektp_x] \
        python bench/pages.py [--repeat 8] [--seed-if-empty] [--role kadis] [--slow 1.0]

Runs on the database the environment names (the SQLite file in EKTP_VAR_DIR, or
DATABASE_URL): seed it once with `make demo` or `--seed-if-empty` (Pesawaran, 18.09,
501,047 residents, `ektp seed --region 18.09 --seed 42`) and reuse it.

How it measures: in this process, through Django's test Client, which runs the whole
request path the server runs (every middleware, the view, the template) but no HTTP
server and no network: the figures are server time. Each demo account (`ektp demo_logins`)
signs in through the real login page and, for the roles that need one, the TOTP code page
(the code from the account's enrolled device, as `ektp otp_code` gives it).

Which pages: the role's home page and every link of its top menu (read from the menu the
pages themselves render, so a page added to the menu is timed without touching this file),
and from each of those pages every link to another page of the site, one per URL pattern
and set of query parameters (so `/cakupan/belum-rekam/?wilayah=…` reached from the
dashboard, `/jemput-bola/desa/<code>/` from the suggestions). Downloads (CSV, XLSX, PDF,
JSON), the admin, static files and sign-out are left out.

Cold is the first request of a page after the cache is cleared and the database
connection closed (a new connection has an empty page cache; the OS file cache stays);
warm is `--repeat` requests after it (p50 and p95 of those). The reference, measured in
the same run with the same clients and middleware: a bare login-required view answering
"ok". The ratio (warm p95 ÷ bare p95) shows what each page itself costs on this machine;
the absolute figures are what the goal (p95 under 1 s) is judged on.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
import types
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

# bench/ holds scripts named like libraries (coverage.py): keep it off the import path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
ROOT = _HERE.parent
sys.path.insert(0, str(ROOT / "src"))

BARE_PATH = "/bench-bare/"
SKIPPED_SUFFIXES = (".csv", ".xlsx", ".pdf", ".json", ".js", ".css", ".png", ".svg", ".zip")
SKIPPED_PREFIXES = ("/admin/", "/static/", "/keluar/", "/api/", "/media/")


class Links(HTMLParser):
    """Collect the href of every <a> (and of the menu's links, which live in <nav>)."""

    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.nav: list[str] = []
        self._in_nav = 0

    def handle_starttag(self, tag, attrs):
        if tag == "nav":
            self._in_nav += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)
                if self._in_nav:
                    self.nav.append(href)

    def handle_endtag(self, tag):
        if tag == "nav" and self._in_nav:
            self._in_nav -= 1


def _bare_urls():
    """A URL conf with the project's patterns and one bare login-required view."""
    from django.contrib.auth.decorators import login_required
    from django.http import HttpResponse
    from django.urls import path

    from ektp.urls import urlpatterns as project

    @login_required
    def bare(request):
        return HttpResponse("ok")

    module = types.ModuleType("bench_pages_urls")
    module.urlpatterns = [path(BARE_PATH.strip("/") + "/", bare), *project]
    sys.modules[module.__name__] = module
    return module.__name__


def _seed_if_empty() -> None:
    from django.core.management import call_command

    from ektp.residents.models import Resident

    call_command("migrate", verbosity=0)
    if not Resident.objects.exists():
        print("seeding Pesawaran (18.09), once: this takes a while", flush=True)
        call_command("regions", "load", stdout=open(os.devnull, "w"))  # noqa: SIM115
        call_command("seed", "--region", "18.09", "--seed", "42", "--no-progress")


def _signed_in_client(username: str):
    """A test Client signed in as a demo account through the login (and TOTP) pages."""
    from django.test import Client

    from ektp.core import otp
    from ektp.core.models import User
    from ektp.residents.demo import DEMO_PASSWORD

    user = User.objects.get(username=username)
    client = Client(REMOTE_ADDR="127.0.0.1")
    response = client.post("/masuk/", {"username": username, "password": DEMO_PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"{username}: login answered {response.status_code}")
    if otp.second_factor_required(user):
        from django_otp.oath import TOTP

        device = otp.enrol_confirmed(user)
        steps = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        while steps.t() <= device.last_t:  # a code works once: wait for the next one
            time.sleep(1)
        response = client.post("/masuk/kode/", {"token": otp.current_code(device)})
        if response.status_code != 302:
            raise SystemExit(f"{username}: TOTP page answered {response.status_code}")
    return client


def _page_key(url: str) -> tuple[str, frozenset] | None:
    """The URL pattern and query parameter names of a site link; None for what is skipped."""
    from django.urls import Resolver404, resolve

    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    if parts.path.startswith(SKIPPED_PREFIXES) or parts.path.endswith(SKIPPED_SUFFIXES):
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    name = match.view_name
    if "export" in name or "ekspor" in parts.path:
        return None
    return name, frozenset(key for key, _ in parse_qsl(parts.query))


def _links(html: bytes) -> Links:
    parser = Links()
    parser.feed(html.decode("utf-8", "replace"))
    return parser


def pages_of(client) -> list[str]:
    """Home, the menu, and one link per URL pattern (and query keys) from each of them."""
    home = client.get("/")
    first = _links(home.content)
    menu = ["/", *dict.fromkeys(first.nav)]
    seen: dict[tuple, str] = {}
    for url in menu:
        key = _page_key(url)
        if key and key not in seen:
            seen[key] = url
    for url in menu:
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for href in _links(response.content).hrefs:
            key = _page_key(href)
            if key and key not in seen:
                seen[key] = href
    return list(seen.values())


def _cold_start() -> None:
    from django.core.cache import cache
    from django.db import connections

    cache.clear()
    connections.close_all()


def time_page(client, url: str, repeat: int) -> dict:
    _cold_start()
    started = time.perf_counter()
    response = client.get(url)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        warm.append(time.perf_counter() - started)
    warm.sort()
    return {
        "url": url,
        "status": response.status_code,
        "cold": cold,
        "p50": statistics.median(warm),
        "p95": warm[min(len(warm) - 1, round(0.95 * (len(warm) - 1)))],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=8, help="warm requests per page")
    parser.add_argument("--role", action="append", help="demo account(s) to time (default all)")
    parser.add_argument("--slow", type=float, default=1.0, help="p95 goal in seconds")
    parser.add_argument("--seed-if-empty", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ektp.settings")
    import django

    django.setup()
    # A page linked for a role that may not open it answers 403: listed, not logged.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    from django.conf import settings
    from django.db import connection
    from django.test.utils import override_settings, setup_test_environment

    from ektp.residents.demo import DEMO_USERS
    from ektp.residents.models import Resident

    if args.seed_if_empty:
        _seed_if_empty()
    setup_test_environment()  # the test Client's response.context and ALLOWED_HOSTS
    residents = Resident.objects.count()
    roles = [u for u in DEMO_USERS if not args.role or u[0] in args.role]
    slow = []
    with override_settings(
        ROOT_URLCONF=_bare_urls(), ALLOWED_HOSTS=["*"], AXES_ENABLED=False, DEBUG=False
    ):
        print(
            f"{connection.vendor}, {residents:,} residents, {args.repeat} warm requests per "
            f"page, cores {os.cpu_count()}, load average "
            + " ".join(f"{x:.2f}" for x in os.getloadavg())
        )
        print("server time through Django's test Client (middleware + view + template)")
        for username, _role, label, _scope in roles:
            client = _signed_in_client(username)
            bare = time_page(client, BARE_PATH, max(args.repeat, 20))
            print(
                f"\n== {username} ({label}): bare view p50 {bare['p50'] * 1000:.1f} ms, "
                f"p95 {bare['p95'] * 1000:.1f} ms"
            )
            print(f"  {'cold':>8} {'p50':>8} {'p95':>8} {'×bare':>7}  page")
            for url in pages_of(client):
                t = time_page(client, url, args.repeat)
                ratio = t["p95"] / bare["p95"] if bare["p95"] else float("nan")
                flag = " SLOW" if t["p95"] > args.slow else ""
                status = "" if t["status"] == 200 else f" [{t['status']}]"
                print(
                    f"  {t['cold'] * 1000:8.0f} {t['p50'] * 1000:8.0f} {t['p95'] * 1000:8.0f}"
                    f" {ratio:7.0f}  {url}{status}{flag}",
                    flush=True,
                )
                if t["p95"] > args.slow:
                    slow.append((username, url, t["p95"]))
    print(
        f"\nms; goal p95 < {args.slow * 1000:.0f} ms; engine {settings.DATABASES['default']['ENGINE']}"
    )
    if slow:
        print(f"{len(slow)} page(s) over the goal:")
        for username, url, p95 in sorted(slow, key=lambda s: -s[2]):
            print(f"  {p95 * 1000:7.0f} ms  {username:9} {url}")
    else:
        print("every page under the goal")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
