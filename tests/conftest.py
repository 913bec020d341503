"""Shared fixtures: the regions are loaded once per test database."""

from __future__ import annotations

import os
import shutil

import pytest
from django.core import signals
from django.db import close_old_connections, connection

from ektp.core.models import Role
from ektp.core.services import create_staff_user, issue_api_token
from ektp.regions.models import Region
from ektp.regions.services import load_regions

PASSWORD = "kata-sandi-uji-2026"
# Every role, with a region its staff can hold: district staff, a province, the nation.
EVERY_ROLE = [
    (Role.GATE_OFFICER, "18.09"),
    (Role.OPERATOR, "18.09"),
    (Role.SUPERVISOR, "18.09"),
    (Role.PROVINCE_ADMIN, "18"),
    (Role.SYSTEM_ADMIN, None),
]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_regions()


@pytest.fixture(autouse=True)
def _regions_after_flush(request):
    """Reload the regions for transactional tests: the flush after each one empties them."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        if not Region.objects.exists():
            load_regions()


@pytest.fixture(autouse=True)
def _default_language():
    """Leave every test in Bahasa Indonesia: a request in English must not leak into the next."""
    from django.utils import translation

    yield
    translation.activate("id")


@pytest.fixture(scope="session", autouse=True)
def _host_cache_of_the_session(tmp_path_factory):
    """Keep the counters of a test run in a directory of their own (the host cache under
    var/ is the demo's)."""
    from django.conf import settings
    from django.test import override_settings

    if settings.CACHES["default"]["BACKEND"] != "ektp.core.ratelimit.HostCache":
        yield
        return
    own = {**settings.CACHES["default"], "LOCATION": str(tmp_path_factory.mktemp("host-cache"))}
    with override_settings(CACHES={**settings.CACHES, "default": own}):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache(request):
    """Start every test with empty rate-limit counters and cached judgements."""
    from django.core.cache import cache, caches
    from django.core.cache.backends.db import BaseDatabaseCache
    from django.test import override_settings

    if isinstance(caches["default"], BaseDatabaseCache):
        if not ({"db", "transactional_db"} & set(request.fixturenames)) and (
            request.node.get_closest_marker("django_db") is None
        ):
            # Without the database a test cannot reach the cache table: it gets a private
            # in-memory cache instead.
            locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
            with override_settings(CACHES=locmem):
                yield
            return
        request.getfixturevalue("db")  # the cache table lives in the test database
    cache.clear()
    yield
    cache.clear()


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://…)")
    for item in items:
        if "postgres" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(skip_pg)


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch):
    """Django's force_login skips the login form, and so the TOTP code page: a user who must
    give a code (ektp.core.otp) is signed in with a confirmed device and the session marked
    verified by it, as django_otp.login does after a right code."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from ektp.core import otp

    plain = Client.force_login

    def force_login(self, user, backend=None):
        plain(self, user, backend)
        if otp.second_factor_required(user):
            device = otp.enrol_confirmed(user)
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture
def pesawaran(db) -> Region:
    return Region.objects.get(code="18.09")


@pytest.fixture
def make_staff(db):
    def make(role: str = Role.OPERATOR, region: str | None = "18.09", username: str | None = None):
        region_obj = Region.objects.get(code=region) if region else None
        return create_staff_user(
            username=username or f"{role}-{region or 'nasional'}",
            password=PASSWORD,
            role=role,
            region=region_obj,
        )

    return make


@pytest.fixture
def operator(make_staff):
    return make_staff(Role.OPERATOR)


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def api_token(operator) -> str:
    return issue_api_token(user=operator, name="uji")


@pytest.fixture
def keep_test_connection():
    """Keep the test transaction's connection open across WSGI calls, as Django's test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# Browser tests: Debian's Chromium driven by Playwright against the live test server.

CHROMIUM = os.environ.get("EKTP_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs Debian's chromium")
    # Playwright's sync API runs an event loop in this thread; Django must allow sync DB calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="id-ID")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def log_in(live_server):
    """Log a staff user in through the live server's login page, as a person would."""

    def log_in(page, user) -> None:
        from ektp.core import otp

        device = otp.enrol_confirmed(user) if otp.second_factor_required(user) else None
        page.goto(f"{live_server.url}/masuk/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        if device is not None:  # the TOTP code, as the authenticator app would show it
            page.wait_for_selector("#id_token")
            page.fill("#id_token", otp.current_code(device))
            page.press("#id_token", "Enter")  # the top bar's first button is Keluar
        page.wait_for_selector("h1")

    return log_in
