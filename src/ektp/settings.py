"""Settings for ektp, read once from the environment (12-factor).

Every value an operator may set is declared once in ``EktpSettings`` below: its type, its
default and what it means. pydantic-settings reads them from the environment; `ektp
settings_doc` writes docs/settings.md and .env.example from the same declarations. The rest of
this module turns them into Django's settings.
"""

from __future__ import annotations

import hashlib
import ipaddress
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from pydantic import AliasChoices, BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ektp.core import keys as key_store


def _truthy(value: object) -> object:
    """Read a boolean as the install always has: "1", "true", "yes", "on" are true."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return value


def _comma_list(value: object) -> object:
    """Read a comma-separated list ("a, b,c"); empty items are dropped."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# A yes/no value: "1", "true", "yes" or "on" is yes, anything else no.
Flag = Annotated[bool, BeforeValidator(_truthy)]
# A comma-separated list in the environment (not JSON).
CommaList = Annotated[list[str], NoDecode, BeforeValidator(_comma_list)]


def _names(*names: str) -> AliasChoices:
    """Read a setting from the first of these environment variables that is set."""
    return AliasChoices(*names)


class EktpSettings(BaseSettings):
    """What an operator may set, each from EKTP_<NAME> unless other names are given."""

    model_config = SettingsConfigDict(env_prefix="EKTP_", extra="ignore")

    # -- The install ---------------------------------------------------------------------------
    home: Path | None = Field(
        None, description="Project directory that holds var/ (unset: the working directory)."
    )
    var_dir: Path | None = Field(
        None,
        description="Where the install keeps its data: database, keys, gallery, outbox "
        "(unset: <home>/var).",
    )
    env: str = Field(
        "development",
        description="`production` refuses to start without the install's keys and turns on "
        "secure cookies, the HTTPS redirect and HSTS.",
    )
    debug: Flag = Field(False, description="Django's debug pages; never in production.")
    allowed_hosts: CommaList = Field(
        ["127.0.0.1", "localhost", "testserver"],
        description="Host names the app answers to (Django's ALLOWED_HOSTS).",
    )
    csrf_trusted_origins: CommaList = Field(
        ["http://127.0.0.1:8000"],
        description="Origins trusted for form posts over HTTPS, e.g. https://ektp.example.go.id.",
    )
    time_zone: str = Field("Asia/Jakarta", description="The office's time zone.")
    log_level: str = Field("INFO", description="Level of the log written to the console.")
    node_id: str = Field(
        "office",
        description="Name of this node on ledger rows, recordings and history "
        "(an edge laptop names itself).",
    )
    edge_clock_tolerance_seconds: int = Field(
        300,
        description="Edge sync: a device whose clock differs from the office's by more than "
        "this many seconds is flagged (its packets keep both times).",
    )
    public_url: str = Field(
        "",
        description="The public address of the portal, used in suket QR links and opt-out "
        "links (unset: the address of the request).",
    )
    demo_region: str = Field("18.09", description="Region the demo seeds (Kabupaten Pesawaran).")

    # -- Keys -----------------------------------------------------------------------------------
    # Read by the key store (ektp.core.keys, which settings.py asks for SECRET_KEY), each else
    # from its file under the key directory; declared here so that they are listed.
    key_dir: Path | None = Field(
        None, description="Directory of the install's own keys (unset: <var dir>/keys)."
    )
    secret_key: str = Field(
        "",
        repr=False,
        description="Django's SECRET_KEY (unset: <key dir>/secret-key, made on first start "
        "outside production).",
    )
    biometric_key: str = Field(
        "",
        repr=False,
        description="Fernet keys of the biometric data, comma-separated, the first encrypts "
        "(unset: <key dir>/biometric.keys).",
    )
    abis_key: str = Field(
        "",
        repr=False,
        description="AES-256-GCM keys of the ABIS gallery, comma-separated base64url, the "
        "first encrypts (unset: <key dir>/abis.key).",
    )
    suket_qr_key: str = Field(
        "", description="PEM path of the Ed25519 key that signs the suket QR payload."
    )
    suket_signing_key: str = Field("", description="PEM path of the office's PAdES key.")
    suket_signing_cert: str = Field(
        "",
        description="PEM path of the office's certificate (production refuses a self-signed one).",
    )

    # -- Database ------------------------------------------------------------------------------
    database_url: str = Field(
        "",
        validation_alias=_names("DATABASE_URL"),
        description="postgres://… or sqlite:///… (unset: SQLite at <var dir>/ektp.sqlite3).",
    )
    pg_prepare_threshold: str = Field(
        "5",
        description="PostgreSQL: runs before psycopg prepares a status-page statement; `off` "
        "behind a pooler that pools by transaction.",
    )

    # -- Behind a proxy, sign-in, security -----------------------------------------------------
    trusted_proxies: CommaList = Field(
        [],
        description="Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed "
        "(addresses or networks, e.g. 127.0.0.1,10.0.0.0/8).",
    )
    no_store_public_paths: CommaList = Field(
        ["/cek/", "/janji/", "/verify/"],
        description="Public path prefixes answered with Cache-Control: no-store.",
    )
    ssl_redirect: Flag = Field(True, description="Production: redirect plain HTTP to HTTPS.")
    hsts_seconds: int = Field(
        31536000, description="Production: seconds browsers use HTTPS only (HSTS)."
    )
    hsts_include_subdomains: Flag = Field(
        True, description="Production: HSTS covers the office's subdomains too."
    )
    hsts_preload: Flag = Field(
        True, description="Production: HSTS allows the browsers' preload list."
    )
    login_failure_limit: int = Field(
        5, description="Failed logins per user name and address before a 15-minute lockout."
    )
    login_failure_limit_per_address: int = Field(
        20, description="Failed logins from one address, whatever the user names, before lockout."
    )
    otp_required_roles: CommaList = Field(
        ["supervisor", "province_admin", "system_admin"],
        description="Roles that must sign in with a second factor (TOTP).",
    )
    otp_issuer: str = Field("ektp", description="Issuer name shown in authenticator apps.")
    api_token_days: int = Field(90, description="Days an API token lives after it is issued.")

    # -- Task worker ---------------------------------------------------------------------------
    task_backend: str = Field(
        "database",
        description="Backend of the background tasks: database (django-tasks-db, the workers "
        "of one server), rq (Redis Queue at EKTP_RQ_URL: many workers on many machines), or a "
        "django-tasks backend's import path.",
    )
    rq_url: str = Field(
        "",
        description="Redis of the task queue when EKTP_TASK_BACKEND=rq (unset: REDIS_URL).",
    )
    worker_heartbeat_seconds: float = Field(
        10, description="Seconds between two heartbeats of `ektp db_worker`."
    )
    worker_gone_after_seconds: float = Field(
        60,
        description="A worker silent this long is gone: /healthz answers 503 and its tasks may "
        "be taken up again.",
    )
    task_reclaim_after_seconds: float = Field(
        120, description="A task running this long under a gone worker is queued again."
    )
    task_max_runs: int = Field(
        3, description="A task under which workers died this many times is marked failed."
    )
    stuck_after_seconds: float = Field(
        3600,
        description="A resident sent for penunggalan this long with no task is listed as "
        "stuck; `ektp daily` queues it again.",
    )
    healthz_min_free_mb: int = Field(
        512, description="/healthz answers 503 below this much free space (MiB) under var/."
    )

    # -- Recording, penunggalan, ABIS ----------------------------------------------------------
    quality_thresholds: dict[str, int] = Field(
        {},
        description="Minimum quality per modality over the built-in ones, JSON, e.g. "
        '{"iris_left": 60}.',
    )
    capture_retry_limit: int = Field(3, description="Captures of one modality an operator may try.")
    capture_driver: str = Field(
        "ektp.enrollment.biometrics.simulator_for",
        description="Dotted path of the function that gives the capture device of a station.",
    )
    penunggalan_handler: str = Field(
        "ektp.dedup.services.run_penunggalan",
        description="Dotted path of what the enrollment task hands a record sent for penunggalan.",
    )
    penunggalan_retry_delays: tuple[float, ...] = Field(
        (30, 120, 600),
        description="Seconds before each retry of a penunggalan whose ABIS was unreachable, "
        "JSON, e.g. [30, 120, 600].",
    )
    abis_url: str = Field(
        "",
        validation_alias=_names("EKTP_ABIS_URL", "ABIS_URL"),
        description="Address of a remote `ektp abis serve` (unset: the gallery runs in-process).",
    )
    abis_data_dir: Path | None = Field(
        None,
        validation_alias=_names("EKTP_ABIS_DATA_DIR", "ABIS_DATA_DIR"),
        description="Directory of the in-process ABIS gallery (unset: <var dir>/abis).",
    )
    abis_shards: int = Field(
        0,
        ge=0,
        description="Split the in-process gallery into this many shards, each a Ray actor with "
        "its own journal under the gallery directory (0: one gallery). Fixed once a gallery "
        "holds references.",
    )
    abis_ray_address: str = Field(
        "",
        description="Ray cluster the shards run on, e.g. `auto` or `ray://head:10001` (unset: "
        "Ray starts on this machine).",
    )
    abis_shard_timeout: float = Field(
        30.0,
        gt=0,
        description="Seconds to wait for every shard's answer before a search fails as "
        "unavailable (never answered from part of the gallery).",
    )

    # -- Card printing -------------------------------------------------------------------------
    card_printer: str = Field(
        "ektp.cards.printers.PdfProofPrinter",
        description="Printer class: PdfProofPrinter (a PDF proof), SpoolerPrinter (`lp`) or "
        "JournalPrinter (drills, tests).",
    )
    card_printer_queue: str = Field("", description="The `lp` queue of SpoolerPrinter.")
    card_printer_journal: Path | None = Field(
        None,
        description="JournalPrinter's journal, one JSON line per card "
        "(unset: <var dir>/printer-journal.log).",
    )
    card_printer_delay: float = Field(
        0, description="JournalPrinter: seconds one card takes to print."
    )
    print_reconcile_after_minutes: int = Field(
        15,
        description="A reserved blank not confirmed this long waits on the reconciliation page.",
    )
    print_job_dir: Path | None = Field(
        None,
        description="Lock files of the printer jobs of this server (unset: <var dir>/print-jobs).",
    )

    # -- Backups -------------------------------------------------------------------------------
    backup_key: str = Field(
        "",
        repr=False,
        description="The age identity (AGE-SECRET-KEY-1…) of `ektp backup` / `ektp restore`.",
    )
    backup_key_file: str = Field("", description="A file holding that identity instead.")
    backup_dir: Path | None = Field(
        None,
        description="Where `ektp backup` writes without --output (unset: <var dir>/backups).",
    )
    pg_dump: str = Field("pg_dump", description="pg_dump as new as the PostgreSQL server.")
    pg_restore: str = Field("pg_restore", description="pg_restore as new as the server.")

    # -- Suket and appointments ----------------------------------------------------------------
    verify_rate: str = Field(
        "30/m", description="Suket verifications one address may make (django-ratelimit rate)."
    )
    appointments_window_minutes: int = Field(
        60,
        validation_alias=_names("EKTP_APPOINTMENTS_WINDOW_MINUTES", "APPOINTMENTS_WINDOW_MINUTES"),
        description="Length of a recording window.",
    )
    appointments_cutoff_minutes: int = Field(
        60,
        validation_alias=_names("EKTP_APPOINTMENTS_CUTOFF_MINUTES", "APPOINTMENTS_CUTOFF_MINUTES"),
        description="Booking closes this long before a window starts.",
    )
    appointments_horizon_days: int = Field(
        30,
        validation_alias=_names("EKTP_APPOINTMENTS_HORIZON_DAYS", "APPOINTMENTS_HORIZON_DAYS"),
        description="How far ahead a window can be booked.",
    )

    # -- Maps ----------------------------------------------------------------------------------
    map_tile_url: str = Field(
        "",
        description="Base map tiles under the zone map, e.g. "
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png (respect the server's usage policy and "
        "credit it); empty: outlines only, which works offline.",
    )

    # -- Notifications -------------------------------------------------------------------------
    whatsapp_backend: str = Field("local", description="WhatsApp channel: local (outbox) or cloud.")
    sms_backend: str = Field("local", description="SMS channel: local (outbox) or http.")
    email_channel: str = Field(
        "local", description="E-mail channel: local (outbox) or smtp (Django's EMAIL_*)."
    )
    notify_channels: CommaList = Field(
        ["whatsapp"], description="Channels a notice goes out on when the resident chose none."
    )
    notify_max_attempts: int = Field(8, description="Tries before a message is given up.")
    notify_backoff_seconds: float = Field(
        60, description="Wait before the first retry of a message; doubles with each try."
    )
    notify_backoff_cap_seconds: float = Field(
        6 * 3600, description="Longest wait between two tries of a message."
    )
    notify_http_timeout: float = Field(10, description="Seconds a channel's HTTP request may take.")
    notify_stale_sending_seconds: float = Field(
        900,
        description="A message claimed this long ago and not settled is settled by asking the "
        "channel (keep it well above the HTTP timeout).",
    )
    notify_collect_after_days: int = Field(
        1, description="Days after printing a card can be collected (said in the notice)."
    )
    whatsapp_graph_url: str = Field(
        "https://graph.facebook.com/v21.0",
        validation_alias=_names("EKTP_WHATSAPP_GRAPH_URL", "WHATSAPP_GRAPH_URL"),
        description="WhatsApp Cloud API base address.",
    )
    whatsapp_phone_number_id: str = Field(
        "",
        validation_alias=_names("EKTP_WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_PHONE_NUMBER_ID"),
        description="WhatsApp Cloud API sender number id.",
    )
    whatsapp_token: str = Field(
        "",
        repr=False,
        validation_alias=_names("EKTP_WHATSAPP_TOKEN", "WHATSAPP_TOKEN"),
        description="WhatsApp Cloud API access token.",
    )
    whatsapp_app_secret: str = Field(
        "",
        repr=False,
        validation_alias=_names("EKTP_WHATSAPP_APP_SECRET", "WHATSAPP_APP_SECRET"),
        description="Secret that signs the webhook calls (X-Hub-Signature-256).",
    )
    whatsapp_verify_token: str = Field(
        "",
        repr=False,
        validation_alias=_names("EKTP_WHATSAPP_VERIFY_TOKEN", "WHATSAPP_VERIFY_TOKEN"),
        description="Token Meta sends when the webhook is registered.",
    )
    whatsapp_templates: dict[str, str] = Field(
        {},
        validation_alias=_names("EKTP_WHATSAPP_TEMPLATES", "WHATSAPP_TEMPLATES"),
        description="Approved template name per event, JSON (unset: plain text messages).",
    )
    sms_gateway_url: str = Field(
        "",
        validation_alias=_names("EKTP_SMS_GATEWAY_URL", "SMS_GATEWAY_URL"),
        description="Address of the HTTP SMS gateway.",
    )
    sms_gateway_method: str = Field(
        "POST",
        validation_alias=_names("EKTP_SMS_GATEWAY_METHOD", "SMS_GATEWAY_METHOD"),
        description="HTTP method of the SMS gateway.",
    )
    sms_gateway_body: str = Field(
        '{"to": "{to}", "text": "{text}"}',
        validation_alias=_names("EKTP_SMS_GATEWAY_BODY", "SMS_GATEWAY_BODY"),
        description="Body sent to the SMS gateway; {to} and {text} are filled in.",
    )
    sms_gateway_content_type: str = Field(
        "application/json",
        validation_alias=_names("EKTP_SMS_GATEWAY_CONTENT_TYPE", "SMS_GATEWAY_CONTENT_TYPE"),
        description="Content type of that body.",
    )
    sms_gateway_headers: dict[str, str] = Field(
        {},
        validation_alias=_names("EKTP_SMS_GATEWAY_HEADERS", "SMS_GATEWAY_HEADERS"),
        description='Extra headers of the SMS gateway request, JSON, e.g. {"X-Api-Key": "…"}.',
    )

    # -- Cache and rate limits -----------------------------------------------------------------
    redis_url: str = Field(
        "", validation_alias=_names("REDIS_URL"), description="Redis for the shared cache."
    )
    cache_url: str = Field(
        "",
        validation_alias=_names("CACHE_URL"),
        description="A redis:// or rediss:// address here counts as REDIS_URL.",
    )
    cache: str = Field(
        "",
        description="Shared cache: host, database or redis (unset: redis when REDIS_URL is "
        "set, else host).",
    )
    cache_prefix: str = Field("ektp", description="Key prefix in Redis.")
    cache_dir: Path | None = Field(
        None, description="Directory of the host cache (unset: <var dir>/cache)."
    )
    portal_rate_per_ip: str = Field(
        "30/10m", description="Status inquiries one address may make (django-ratelimit rate)."
    )
    portal_rate_per_nik: str = Field(
        "5/10m", description="Status inquiries about one NIK, from anywhere."
    )
    access_code_minutes: int = Field(10, description="Minutes a one-time access code lives.")
    access_code_attempts: int = Field(5, description="Wrong tries one access code allows.")
    access_code_resend_seconds: int = Field(
        30,
        description="Seconds before a new code for the same document (doubling with each "
        "code of the last hour).",
    )
    access_code_resend_cap_seconds: int = Field(600, description="Longest wait before a new code.")
    access_grant_minutes: int = Field(
        15, description="Minutes a correct code keeps the document open."
    )


try:
    env = EktpSettings()
except ValidationError as _invalid:
    raise ImproperlyConfigured(f"Invalid setting in the environment: {_invalid}") from None

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = env.home or Path.cwd()
VAR_DIR = env.var_dir or PROJECT_DIR / "var"

DEBUG = env.debug
ENVIRONMENT = env.env

# The install's own keys (see ektp.core.keys): each from its environment variable, else from
# its file under EKTP_KEY_DIR. Outside production the missing ones are made on first start;
# production refuses to start and names every key that is missing.
EKTP_KEY_DIR = env.key_dir or VAR_DIR / "keys"
_key_store = key_store.KeyStore(EKTP_KEY_DIR)
if ENVIRONMENT == "production":
    if _missing_keys := _key_store.missing():
        raise ImproperlyConfigured(str(key_store.MissingKeys(_missing_keys)))
else:
    _key_store.ensure()
try:
    SECRET_KEY = _key_store.secret_key()  # EKTP_SECRET_KEY or <key dir>/secret-key
    _key_store.biometric_keys()  # a malformed key stops the start, not the first recording
    _key_store.abis_keys()
except key_store.KeyStoreError as _error:
    raise ImproperlyConfigured(str(_error)) from None

ALLOWED_HOSTS = env.allowed_hosts
CSRF_TRUSTED_ORIGINS = env.csrf_trusted_origins

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "ninja",  # django-ninja serves its own Swagger UI (no CDN: the docs work offline)
    # ektp.core before django_tasks_db: its `db_worker` (the library's, plus a heartbeat and
    # the reclaim of tasks left by a dead worker) is the one `ektp db_worker` runs.
    "ektp.core",
    "django_tasks",
    "django_tasks_db",
    "ektp.regions",
    "ektp.residents",
    "ektp.offices",
    "ektp.enrollment",
    "ektp.cards",
    "ektp.coverage",
    "ektp.outreach",
    "ektp.dedup",
    "ektp.suket",
    "ektp.naskah",
    "ektp.appointments",
    "ektp.notifications",
    "ektp.portal",
    "ektp.sync",
    "ektp.partners",
]

MIDDLEWARE = [
    "ektp.core.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ektp.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ektp.core.middleware.NoStoreForStaffMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "ektp.core.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "ektp.core.middleware.RegionChoiceMiddleware",
    "ektp.core.middleware.DomainErrorMiddleware",
    "ektp.core.ratelimit.CountersUnavailableMiddleware",
]

ROOT_URLCONF = "ektp.urls"
WSGI_APPLICATION = "ektp.wsgi.application"
ASGI_APPLICATION = "ektp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ektp.core.context_processors.navigation",
            ],
        },
    },
    {
        # The public pages (see ektp.core.jinja): templates in each app's jinja2/ directory.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "APP_DIRS": True,
        "OPTIONS": {"environment": "ektp.core.jinja.environment", "autoescape": True},
    },
]

# SQLite (WAL) under var/ by default; PostgreSQL (or SQLite elsewhere) through DATABASE_URL.
DATABASE_URL = env.database_url
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "ektp.sqlite3",
            # Keep the connection between requests: opening one and running the PRAGMAs
            # costs more than a whole public status inquiry.
            "CONN_MAX_AGE": 60,
        }
    }
# Which database the install runs on, read from the engine (DATABASE_URL may name SQLite).
DATABASE_IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;PRAGMA busy_timeout=30000;"
        ),
        **DATABASES["default"].get("OPTIONS", {}),
    }
elif DATABASE_IS_POSTGRES:
    # psycopg prepares a statement run this many times on a connection through a cursor that
    # binds on the server (Django's cursors bind on the client and never do): "off" behind a
    # proxy that pools by transaction. (A psycopg option: SQLite refuses it.)
    _prepare = env.pg_prepare_threshold
    if _prepare.lower() not in ("", "off", "none"):
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = int(_prepare)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"

# Reverse proxies in front of the app (comma-separated addresses or networks, e.g.
# "127.0.0.1,10.0.0.0/8"); empty by default. Only a request whose direct peer is one of them
# has its X-Forwarded-For (the client's address, see ektp.core.net) and X-Forwarded-Proto
# (https or not) believed.
EKTP_TRUSTED_PROXIES: list[str] = env.trusted_proxies
for _proxy in EKTP_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"EKTP_TRUSTED_PROXIES: {_proxy!r} is no address.") from _exc
if EKTP_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Public pages that show personal data (path prefixes): answered with Cache-Control: no-store,
# as every page shown to signed-in staff is (ektp.core.middleware.NoStoreForStaffMiddleware).
EKTP_NO_STORE_PUBLIC_PATHS = env.no_store_public_paths

# Lockout after repeated failures (django-axes): per username and address, and per address
# across user names (against password spraying; see ektp.core.lockout.LockoutHandler).
AXES_FAILURE_LIMIT = env.login_failure_limit
# Failed logins from one address, whatever the user names, before it is locked out.
EKTP_LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.login_failure_limit_per_address
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "ektp.core.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "ektp.core.net.client_ip"
AXES_HANDLER = "ektp.core.lockout.LockoutHandler"

# Roles that must sign in with a second factor (TOTP, django-otp); any other staff member may
# enrol a device and is then asked for its code too.
EKTP_OTP_REQUIRED_ROLES = env.otp_required_roles
OTP_TOTP_ISSUER = env.otp_issuer

# API tokens expire this many days after they are issued (they also die when the owner's
# password changes, and the owner can revoke them: GET/DELETE /api/v1/auth/tokens).
EKTP_API_TOKEN_DAYS = env.api_token_days

# Sessions and cookies.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if ENVIRONMENT == "production":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.ssl_redirect
    # HSTS: browsers use https only for this long (seconds), for the office's subdomains too,
    # and the header makes the host eligible for the browsers' preload list (`check --deploy`
    # is clean); an install whose sibling hosts still speak plain HTTP turns these off.
    SECURE_HSTS_SECONDS = env.hsts_seconds
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.hsts_include_subdomains
    SECURE_HSTS_PRELOAD = env.hsts_preload

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# The zone map's base tiles come from the configured tile server; MapLibre decodes them in a
# worker that it starts from a blob: URL.
EKTP_MAP_TILE_URL = env.map_tile_url
if EKTP_MAP_TILE_URL:
    _tiles = urlsplit(EKTP_MAP_TILE_URL)
    if _tiles.scheme not in ("http", "https") or not _tiles.netloc:
        raise ImproperlyConfigured("EKTP_MAP_TILE_URL must be an http(s) address with {z}/{x}/{y}.")
    _tile_origin = f"{_tiles.scheme}://{_tiles.netloc}"
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(_tile_origin)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"].append(_tile_origin)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["worker-src"] = ["'self'", "blob:"]

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.time_zone
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"

# Background tasks: in the database for a district (`ektp db_worker`); on Redis Queue for a
# province or the nation, where many workers on many machines take from one queue
# (`ektp rqworker --job-class django_tasks_rq.Job default`). Either way a task is enqueued
# after commit, by id, and is safe to run twice.
RQ_BACKEND = "django_tasks_rq.RQBackend"
TASK_BACKENDS = {"database": "django_tasks_db.DatabaseBackend", "rq": RQ_BACKEND}
TASK_BACKEND = TASK_BACKENDS.get(env.task_backend.strip().lower(), env.task_backend.strip())
TASKS = {
    "default": {
        "BACKEND": TASK_BACKEND,
    }
}
# Redis Queue's connection (read only when TASK_BACKEND is Redis Queue's). A job that runs
# longer than DEFAULT_TIMEOUT seconds is stopped by its worker (a district scan takes minutes).
RQ_URL = (
    env.rq_url
    or env.redis_url
    or (env.cache_url if env.cache_url.startswith(("redis://", "rediss://")) else "")
)
RQ_QUEUES = {"default": {"URL": RQ_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 3600}}
if TASK_BACKEND == RQ_BACKEND:
    if not RQ_URL:
        raise ImproperlyConfigured("EKTP_TASK_BACKEND=rq needs EKTP_RQ_URL or REDIS_URL.")
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]

# Task worker (`ektp db_worker`, see ektp.core.worker): its heartbeat, and when the tasks that a
# dead worker left RUNNING are taken up again.
# Seconds between two heartbeats of a worker (each beat also looks for tasks to take up again).
EKTP_WORKER_HEARTBEAT_SECONDS = env.worker_heartbeat_seconds
# A worker whose last heartbeat is older than this is gone: /healthz answers 503 and the tasks
# it was running may be taken up again.
EKTP_WORKER_GONE_AFTER_SECONDS = env.worker_gone_after_seconds
# A task RUNNING for longer than this whose worker is gone is put back in the queue.
EKTP_TASK_RECLAIM_AFTER_SECONDS = env.task_reclaim_after_seconds
# A task under which workers died this many times is marked failed instead (it may be what
# kills them).
EKTP_TASK_MAX_RUNS = env.task_max_runs
# A resident left in SENT_FOR_ENROLLMENT this long with no task queued or running for the
# record is listed as stuck, and `ektp daily` queues its penunggalan again.
EKTP_STUCK_AFTER_SECONDS = env.stuck_after_seconds
# /healthz answers 503 when the disk holding var/ has less free space than this (MiB).
EKTP_HEALTHZ_MIN_FREE_MB = env.healthz_min_free_mb

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.log_level},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Biometric templates and images at rest (Fernet). Comma-separated keys: the first encrypts,
# all decrypt. Unset: the keys of <key dir>/biometric.keys (`ektp keys rotate-biometric`).
EKTP_BIOMETRIC_KEY = env.biometric_key
# The ABIS gallery on disk (AES-256-GCM), comma-separated base64url keys, the first encrypts.
# Unset: the keys of <key dir>/abis.key. A standalone `ektp abis serve` reads the same.
EKTP_ABIS_KEY = env.abis_key

# Appointments: window length, booking cut-off before a window, and how far ahead to book.
APPOINTMENTS_WINDOW_MINUTES = env.appointments_window_minutes
APPOINTMENTS_CUTOFF_MINUTES = env.appointments_cutoff_minutes
APPOINTMENTS_HORIZON_DAYS = env.appointments_horizon_days

# Card printing: a PDF proof of the card face by default; the spooler sends to `lp`;
# ektp.cards.printers.JournalPrinter only writes one line per card to a journal (drills, tests).
EKTP_CARD_PRINTER = env.card_printer
EKTP_CARD_PRINTER_QUEUE = env.card_printer_queue
# JournalPrinter: the journal file (one JSON line per card, fsynced), and the seconds one card
# takes; the card counts as printed half-way through, so a crash can land on either side.
EKTP_CARD_PRINTER_JOURNAL = env.card_printer_journal or VAR_DIR / "printer-journal.log"
EKTP_CARD_PRINTER_DELAY = env.card_printer_delay
# A blank reserved for a card and not confirmed within this many minutes, or whose printer
# job has stopped (crash, kill -9), waits on the reconciliation page for an operator to say
# whether the card came out.
EKTP_PRINT_RECONCILE_AFTER_MINUTES = env.print_reconcile_after_minutes
# Lock files of the printer jobs running on this server (a job that died holds none).
EKTP_PRINT_JOB_DIR = env.print_job_dir or VAR_DIR / "print-jobs"
# Name of this node on ledger rows, recordings and history (an edge laptop names itself).
EKTP_NODE_ID = env.node_id
# Edge sync: how far a device's clock may be from the office's before it is flagged (seconds).
EKTP_EDGE_CLOCK_TOLERANCE_SECONDS = env.edge_clock_tolerance_seconds

# ABIS: in-process gallery under var/abis unless ABIS_URL points at a remote `ektp abis serve`.
ABIS_URL = env.abis_url or None
ABIS_DATA_DIR = env.abis_data_dir or VAR_DIR / "abis"
# Sharded ABIS (`ektp abis serve --shards N`, or in-process): the gallery in N Ray actors.
ABIS_SHARDS = env.abis_shards
ABIS_RAY_ADDRESS = env.abis_ray_address or None
ABIS_SHARD_TIMEOUT = env.abis_shard_timeout

# Backups (`ektp backup` / `ektp restore`): the database, var/keys and the ABIS gallery in one
# archive encrypted with age. The backup key is an age identity (AGE-SECRET-KEY-1…) given
# inline (EKTP_BACKUP_KEY) or as a file (EKTP_BACKUP_KEY_FILE); it both encrypts and
# authenticates the archives and is never written into one. Keep a copy off this machine and
# never beside the archives. `ektp backup --new-key FILE` makes one.
BACKUP_KEY = env.backup_key.strip()
BACKUP_KEY_FILE = env.backup_key_file
# Where `ektp backup` writes when no --output is given (copy the archives elsewhere from here).
BACKUP_DIR = env.backup_dir or VAR_DIR / "backups"
# The PostgreSQL client programs, as new as the server (e.g. /usr/lib/postgresql/16/bin/pg_dump).
BACKUP_PG_DUMP = env.pg_dump
BACKUP_PG_RESTORE = env.pg_restore

# Penunggalan: the enrollment task hands SFE records to the dedup pipeline.
EKTP_PENUNGGALAN_HANDLER = env.penunggalan_handler
EKTP_PENUNGGALAN_RETRY_DELAYS = env.penunggalan_retry_delays

# Recording: quality thresholds over the built-in ones, tries per modality, the capture device.
EKTP_QUALITY_THRESHOLDS: dict[str, int] = env.quality_thresholds
EKTP_CAPTURE_RETRY_LIMIT = env.capture_retry_limit
EKTP_CAPTURE_DRIVER = env.capture_driver

# Suket: QR payload key (Ed25519) and the office's PAdES key and certificate (PEM paths).
# Empty: the files under the key dir (made self-signed on first start outside production).
EKTP_SUKET_QR_KEY = env.suket_qr_key
EKTP_SUKET_SIGNING_KEY = env.suket_signing_key
EKTP_SUKET_SIGNING_CERT = env.suket_signing_cert
EKTP_PUBLIC_URL = env.public_url  # used in QR links and opt-out links
EKTP_VERIFY_RATE = env.verify_rate

# Notifications: every channel writes to the local outbox unless configured.
NOTIFICATION_BACKENDS = {
    "whatsapp": env.whatsapp_backend,  # local | cloud
    "sms": env.sms_backend,  # local | http
    "email": env.email_channel,  # local | smtp (Django EMAIL_*)
}
NOTIFICATIONS_DEFAULT_CHANNELS = env.notify_channels
NOTIFICATIONS_OUTBOX_DIR = VAR_DIR / "outbox"
NOTIFICATIONS_MAX_ATTEMPTS = env.notify_max_attempts
NOTIFICATIONS_BACKOFF_SECONDS = env.notify_backoff_seconds
NOTIFICATIONS_BACKOFF_CAP_SECONDS = env.notify_backoff_cap_seconds
NOTIFICATIONS_HTTP_TIMEOUT = env.notify_http_timeout
NOTIFICATIONS_COLLECT_AFTER_DAYS = env.notify_collect_after_days
# A message claimed for sending this long ago and not settled was left by a dead worker: it is
# settled by asking the channel (a channel that cannot say is not sent again: see
# ektp.notifications.services.settle_in_doubt). Keep it well above NOTIFICATIONS_HTTP_TIMEOUT.
NOTIFICATIONS_STALE_SENDING_SECONDS = env.notify_stale_sending_seconds
WHATSAPP_GRAPH_URL = env.whatsapp_graph_url
WHATSAPP_PHONE_NUMBER_ID = env.whatsapp_phone_number_id
WHATSAPP_TOKEN = env.whatsapp_token
WHATSAPP_APP_SECRET = env.whatsapp_app_secret
WHATSAPP_VERIFY_TOKEN = env.whatsapp_verify_token
WHATSAPP_TEMPLATES: dict[str, str] = env.whatsapp_templates  # event -> template; empty = text
SMS_GATEWAY_URL = env.sms_gateway_url
SMS_GATEWAY_METHOD = env.sms_gateway_method
SMS_GATEWAY_BODY = env.sms_gateway_body
SMS_GATEWAY_CONTENT_TYPE = env.sms_gateway_content_type
SMS_GATEWAY_HEADERS: dict[str, str] = env.sms_gateway_headers

# Cache shared by every process of one install (it holds the rate-limit counters), chosen by
# EKTP_CACHE:
# - "redis": Redis at REDIS_URL (or a redis:// CACHE_URL), the default when one is set; the
#   choice for web processes on several machines;
# - "host": diskcache's SQLite files under EKTP_CACHE_DIR (default var/cache), shared by every
#   process of this machine (ektp.core.ratelimit.HostCache), the default otherwise;
# - "database": Django's cache table in the database (`migrate` creates it).
REDIS_URL = env.redis_url
if not REDIS_URL and env.cache_url.startswith(("redis://", "rediss://")):
    REDIS_URL = env.cache_url
# Culling drops live counters once the cache is full: keep it far above the keys one hour of
# enumeration attempts can make.
CACHE_MAX_ENTRIES = 1_000_000
CACHE_KIND = env.cache.strip().lower() or ("redis" if REDIS_URL else "host")
if CACHE_KIND == "redis":
    if not REDIS_URL:
        raise ImproperlyConfigured("EKTP_CACHE=redis needs REDIS_URL.")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.cache_prefix,
        }
    }
elif CACHE_KIND == "host":
    CACHES = {
        "default": {
            "BACKEND": "ektp.core.ratelimit.HostCache",
            "LOCATION": str(env.cache_dir or VAR_DIR / "cache"),
            # Seconds a write waits for another process's write to its shard (SQLite's busy
            # timeout) before diskcache tries again.
            "DATABASE_TIMEOUT": 1.0,
            # Counters live minutes: a power cut may lose the last of them, so SQLite need not
            # wait for the disk on each write. No eviction by size: a flood of new keys must
            # not push live counters out (each write still drops up to ten expired keys, which
            # bounds the files by the keys of one rate window), and no write measures the files.
            "OPTIONS": {"sqlite_synchronous": 0, "eviction_policy": "none"},
        }
    }
elif CACHE_KIND == "database":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "ektp_cache",
            "OPTIONS": {"MAX_ENTRIES": CACHE_MAX_ENTRIES},
        }
    }
else:
    raise ImproperlyConfigured(f"EKTP_CACHE={CACHE_KIND!r}: choose host, database or redis.")

# Public pages: rate limits against NIK enumeration, counted in the shared cache (see
# ektp.core.ratelimit). Which limiter counts: CacheRateLimiter, or NullRateLimiter (none).
RATE_LIMITER = "ektp.core.ratelimit.CacheRateLimiter"
# django-ratelimit's own settings, each at the library's default, written out: a setting
# that is not defined is looked up again (and fails) on every inquiry.
RATELIMIT_ENABLE = True
RATELIMIT_USE_CACHE = "default"
# When the counters cannot be reached: let the try through and log it (True), or answer 503
# "briefly unavailable" (False).
RATELIMIT_FAIL_OPEN = True
# The client's address through the trusted proxies (django-ratelimit's documented hook).
RATELIMIT_IP_META_KEY = "ektp.core.net.client_ip"
RATELIMIT_IPV4_MASK = 32
RATELIMIT_IPV6_MASK = 64
RATELIMIT_CACHE_PREFIX = "rl:"
RATELIMIT_HASH_ALGORITHM = hashlib.sha256
PORTAL_RATE_PER_IP = env.portal_rate_per_ip
# Inquiries about one NIK, from anywhere: a short window, so that someone trying a resident's
# NIK from many addresses slows the inquiry for minutes, not an hour (the NIK holds the birth
# date anyway; what the answer could give away is behind a one-time code).
PORTAL_RATE_PER_NIK = env.portal_rate_per_nik
# One-time access codes, sent to the phone on record, that open a resident's suket or booking.
# Minutes a code lives; wrong tries a code allows; seconds before a new code for the same
# document (doubling with each code of the last hour, up to the cap); minutes a correct code
# keeps the document open.
PORTAL_ACCESS_CODE_MINUTES = env.access_code_minutes
PORTAL_ACCESS_CODE_ATTEMPTS = env.access_code_attempts
PORTAL_ACCESS_CODE_RESEND_SECONDS = env.access_code_resend_seconds
PORTAL_ACCESS_CODE_RESEND_CAP_SECONDS = env.access_code_resend_cap_seconds
PORTAL_ACCESS_GRANT_MINUTES = env.access_grant_minutes

# Demo and seeding.
EKTP_DEMO_REGION = env.demo_region
