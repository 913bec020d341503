"""Settings for ektp, read once from the environment (12-factor)."""

from __future__ import annotations

import hashlib
import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from ektp.core import keys as key_store

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("EKTP_HOME", Path.cwd()))
VAR_DIR = Path(os.environ.get("EKTP_VAR_DIR", PROJECT_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean from the environment ("1", "true", "yes" are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    """Read a comma-separated list from the environment."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("EKTP_DEBUG", False)
ENVIRONMENT = os.environ.get("EKTP_ENV", "development")

# The install's own keys (see ektp.core.keys): each from its environment variable, else from
# its file under EKTP_KEY_DIR. Outside production the missing ones are made on first start;
# production refuses to start and names every key that is missing.
EKTP_KEY_DIR = Path(os.environ.get("EKTP_KEY_DIR", VAR_DIR / "keys"))
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

ALLOWED_HOSTS = env_list("EKTP_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("EKTP_CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000")

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
    "ektp.appointments",
    "ektp.notifications",
    "ektp.portal",
]

MIDDLEWARE = [
    "ektp.core.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
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
    "ektp.portal.middleware.CountersUnavailableMiddleware",
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
DATABASE_URL = os.environ.get("DATABASE_URL", "")
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
    # psycopg prepares a statement run this many times on a connection through a cursor of
    # ektp.core.prepared (the public status inquiry): "off" behind a proxy that pools by
    # transaction and cannot keep prepared statements. (A psycopg option: SQLite refuses it.)
    _prepare = os.environ.get("EKTP_PG_PREPARE_THRESHOLD", "5")
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
EKTP_TRUSTED_PROXIES: list[str] = env_list("EKTP_TRUSTED_PROXIES", "")
for _proxy in EKTP_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"EKTP_TRUSTED_PROXIES: {_proxy!r} is no address.") from _exc
if EKTP_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Public pages that show personal data (path prefixes): answered with Cache-Control: no-store,
# as every page shown to signed-in staff is (ektp.core.middleware.NoStoreForStaffMiddleware).
EKTP_NO_STORE_PUBLIC_PATHS = env_list("EKTP_NO_STORE_PUBLIC_PATHS", "/cek/,/janji/,/verify/")

# Lockout after repeated failures (django-axes): per username and address, and per address
# across user names (against password spraying; see ektp.core.lockout.LockoutHandler).
AXES_FAILURE_LIMIT = int(os.environ.get("EKTP_LOGIN_FAILURE_LIMIT", "5"))
# Failed logins from one address, whatever the user names, before it is locked out.
EKTP_LOGIN_FAILURE_LIMIT_PER_ADDRESS = int(
    os.environ.get("EKTP_LOGIN_FAILURE_LIMIT_PER_ADDRESS", "20")
)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "ektp.core.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "ektp.core.net.client_ip"
AXES_HANDLER = "ektp.core.lockout.LockoutHandler"

# Roles that must sign in with a second factor (TOTP, django-otp); any other staff member may
# enrol a device and is then asked for its code too.
EKTP_OTP_REQUIRED_ROLES = env_list(
    "EKTP_OTP_REQUIRED_ROLES", "supervisor,province_admin,system_admin"
)
OTP_TOTP_ISSUER = os.environ.get("EKTP_OTP_ISSUER", "ektp")

# API tokens expire this many days after they are issued (they also die when the owner's
# password changes, and the owner can revoke them: GET/DELETE /api/v1/auth/tokens).
EKTP_API_TOKEN_DAYS = int(os.environ.get("EKTP_API_TOKEN_DAYS", "90"))

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
    SECURE_SSL_REDIRECT = env_bool("EKTP_SSL_REDIRECT", True)
    # HSTS: browsers use https only for this long (seconds), for the office's subdomains too,
    # and the header makes the host eligible for the browsers' preload list (`check --deploy`
    # is clean); an install whose sibling hosts still speak plain HTTP turns these off.
    SECURE_HSTS_SECONDS = int(os.environ.get("EKTP_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("EKTP_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("EKTP_HSTS_PRELOAD", True)

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

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("EKTP_TIME_ZONE", "Asia/Jakarta")
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

TASKS = {
    "default": {
        "BACKEND": os.environ.get("EKTP_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Task worker (`ektp db_worker`, see ektp.core.worker): its heartbeat, and when the tasks that a
# dead worker left RUNNING are taken up again.
# Seconds between two heartbeats of a worker (each beat also looks for tasks to take up again).
EKTP_WORKER_HEARTBEAT_SECONDS = float(os.environ.get("EKTP_WORKER_HEARTBEAT_SECONDS", "10"))
# A worker whose last heartbeat is older than this is gone: /healthz answers 503 and the tasks
# it was running may be taken up again.
EKTP_WORKER_GONE_AFTER_SECONDS = float(os.environ.get("EKTP_WORKER_GONE_AFTER_SECONDS", "60"))
# A task RUNNING for longer than this whose worker is gone is put back in the queue.
EKTP_TASK_RECLAIM_AFTER_SECONDS = float(os.environ.get("EKTP_TASK_RECLAIM_AFTER_SECONDS", "120"))
# A task under which workers died this many times is marked failed instead (it may be what
# kills them).
EKTP_TASK_MAX_RUNS = int(os.environ.get("EKTP_TASK_MAX_RUNS", "3"))
# A resident left in SENT_FOR_ENROLLMENT this long with no task queued or running for the
# record is listed as stuck, and `ektp daily` queues its penunggalan again.
EKTP_STUCK_AFTER_SECONDS = float(os.environ.get("EKTP_STUCK_AFTER_SECONDS", "3600"))
# /healthz answers 503 when the disk holding var/ has less free space than this (MiB).
EKTP_HEALTHZ_MIN_FREE_MB = int(os.environ.get("EKTP_HEALTHZ_MIN_FREE_MB", "512"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("EKTP_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Biometric templates and images at rest (Fernet). Comma-separated keys: the first encrypts,
# all decrypt. Unset: the keys of <key dir>/biometric.keys (`ektp keys rotate-biometric`).
EKTP_BIOMETRIC_KEY = os.environ.get("EKTP_BIOMETRIC_KEY", "")
# The ABIS gallery on disk (AES-256-GCM), comma-separated base64url keys, the first encrypts.
# Unset: the keys of <key dir>/abis.key. A standalone `ektp abis serve` reads the same.
EKTP_ABIS_KEY = os.environ.get("EKTP_ABIS_KEY", "")

# Appointments: window length, booking cut-off before a window, and how far ahead to book.
APPOINTMENTS_WINDOW_MINUTES = int(os.environ.get("APPOINTMENTS_WINDOW_MINUTES", "60"))
APPOINTMENTS_CUTOFF_MINUTES = int(os.environ.get("APPOINTMENTS_CUTOFF_MINUTES", "60"))
APPOINTMENTS_HORIZON_DAYS = int(os.environ.get("APPOINTMENTS_HORIZON_DAYS", "30"))

# Card printing: a PDF proof of the card face by default; the spooler sends to `lp`;
# ektp.cards.printers.JournalPrinter only writes one line per card to a journal (drills, tests).
EKTP_CARD_PRINTER = os.environ.get("EKTP_CARD_PRINTER", "ektp.cards.printers.PdfProofPrinter")
EKTP_CARD_PRINTER_QUEUE = os.environ.get("EKTP_CARD_PRINTER_QUEUE", "")
# JournalPrinter: the journal file (one JSON line per card, fsynced), and the seconds one card
# takes; the card counts as printed half-way through, so a crash can land on either side.
EKTP_CARD_PRINTER_JOURNAL = Path(
    os.environ.get("EKTP_CARD_PRINTER_JOURNAL", VAR_DIR / "printer-journal.log")
)
EKTP_CARD_PRINTER_DELAY = float(os.environ.get("EKTP_CARD_PRINTER_DELAY", "0"))
# A blank reserved for a card and not confirmed within this many minutes, or whose printer
# job has stopped (crash, kill -9), waits on the reconciliation page for an operator to say
# whether the card came out.
EKTP_PRINT_RECONCILE_AFTER_MINUTES = int(os.environ.get("EKTP_PRINT_RECONCILE_AFTER_MINUTES", "15"))
# Lock files of the printer jobs running on this server (a job that died holds none).
EKTP_PRINT_JOB_DIR = Path(os.environ.get("EKTP_PRINT_JOB_DIR", VAR_DIR / "print-jobs"))
# Name of this node on ledger rows, recordings and history (an edge laptop names itself).
EKTP_NODE_ID = os.environ.get("EKTP_NODE_ID", "office")

# ABIS: in-process gallery under var/abis unless ABIS_URL points at a remote `ektp abis serve`.
ABIS_URL = os.environ.get("ABIS_URL") or None
ABIS_DATA_DIR = Path(os.environ.get("ABIS_DATA_DIR", VAR_DIR / "abis"))

# Backups (`ektp backup` / `ektp restore`): the database, var/keys and the ABIS gallery in one
# archive encrypted with age. The backup key is an age identity (AGE-SECRET-KEY-1…) given
# inline (EKTP_BACKUP_KEY) or as a file (EKTP_BACKUP_KEY_FILE); it both encrypts and
# authenticates the archives and is never written into one. Keep a copy off this machine and
# never beside the archives. `ektp backup --new-key FILE` makes one.
BACKUP_KEY = os.environ.get("EKTP_BACKUP_KEY", "").strip()
BACKUP_KEY_FILE = os.environ.get("EKTP_BACKUP_KEY_FILE", "")
# Where `ektp backup` writes when no --output is given (copy the archives elsewhere from here).
BACKUP_DIR = Path(os.environ.get("EKTP_BACKUP_DIR", VAR_DIR / "backups"))
# The PostgreSQL client programs, as new as the server (e.g. /usr/lib/postgresql/16/bin/pg_dump).
BACKUP_PG_DUMP = os.environ.get("EKTP_PG_DUMP", "pg_dump")
BACKUP_PG_RESTORE = os.environ.get("EKTP_PG_RESTORE", "pg_restore")

# Penunggalan: the enrollment task hands SFE records to the dedup pipeline.
EKTP_PENUNGGALAN_HANDLER = os.environ.get(
    "EKTP_PENUNGGALAN_HANDLER", "ektp.dedup.services.run_penunggalan"
)

# Suket: QR payload key (Ed25519) and the office's PAdES key and certificate (PEM paths).
# Empty: the files under the key dir (made self-signed on first start outside production).
EKTP_SUKET_QR_KEY = os.environ.get("EKTP_SUKET_QR_KEY", "")
EKTP_SUKET_SIGNING_KEY = os.environ.get("EKTP_SUKET_SIGNING_KEY", "")
EKTP_SUKET_SIGNING_CERT = os.environ.get("EKTP_SUKET_SIGNING_CERT", "")
EKTP_PUBLIC_URL = os.environ.get("EKTP_PUBLIC_URL", "")  # used in QR links and opt-out links
EKTP_VERIFY_RATE = os.environ.get("EKTP_VERIFY_RATE", "30/m")

# Notifications: every channel writes to the local outbox unless configured.
NOTIFICATION_BACKENDS = {
    "whatsapp": os.environ.get("EKTP_WHATSAPP_BACKEND", "local"),  # local | cloud
    "sms": os.environ.get("EKTP_SMS_BACKEND", "local"),  # local | http
    "email": os.environ.get("EKTP_EMAIL_CHANNEL", "local"),  # local | smtp (Django EMAIL_*)
}
NOTIFICATIONS_DEFAULT_CHANNELS = env_list("EKTP_NOTIFY_CHANNELS", "whatsapp")
NOTIFICATIONS_OUTBOX_DIR = VAR_DIR / "outbox"
NOTIFICATIONS_MAX_ATTEMPTS = int(os.environ.get("EKTP_NOTIFY_MAX_ATTEMPTS", "8"))
NOTIFICATIONS_BACKOFF_SECONDS = 60
NOTIFICATIONS_BACKOFF_CAP_SECONDS = 6 * 3600
NOTIFICATIONS_HTTP_TIMEOUT = 10
# A message claimed for sending this long ago and not settled was left by a dead worker: it is
# settled by asking the channel (a channel that cannot say is not sent again: see
# ektp.notifications.services.settle_in_doubt). Keep it well above NOTIFICATIONS_HTTP_TIMEOUT.
NOTIFICATIONS_STALE_SENDING_SECONDS = float(
    os.environ.get("EKTP_NOTIFY_STALE_SENDING_SECONDS", "900")
)
WHATSAPP_GRAPH_URL = os.environ.get("WHATSAPP_GRAPH_URL", "https://graph.facebook.com/v21.0")
WHATSAPP_PHONE_NUMBER_ID = os.environ.get("WHATSAPP_PHONE_NUMBER_ID", "")
WHATSAPP_TOKEN = os.environ.get("WHATSAPP_TOKEN", "")
WHATSAPP_APP_SECRET = os.environ.get("WHATSAPP_APP_SECRET", "")
WHATSAPP_VERIFY_TOKEN = os.environ.get("WHATSAPP_VERIFY_TOKEN", "")
WHATSAPP_TEMPLATES: dict[str, str] = {}  # event -> approved template name; empty = text
SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
SMS_GATEWAY_METHOD = os.environ.get("SMS_GATEWAY_METHOD", "POST")
SMS_GATEWAY_BODY = os.environ.get("SMS_GATEWAY_BODY", '{"to": "{to}", "text": "{text}"}')
SMS_GATEWAY_CONTENT_TYPE = os.environ.get("SMS_GATEWAY_CONTENT_TYPE", "application/json")

# Cache shared by every process of one install (it holds the rate-limit counters), chosen by
# EKTP_CACHE:
# - "redis": Redis at REDIS_URL (or a redis:// CACHE_URL), the default when one is set;
# - "host": an LMDB file under var/ that every process of this machine shares, the default on
#   SQLite (an install on SQLite is one machine);
# - "database": a table in the database that `migrate` creates, the default on PostgreSQL,
#   whose web processes may run on several machines (one that runs them all on one machine
#   can say EKTP_CACHE=host).
REDIS_URL = os.environ.get("REDIS_URL", "")
if not REDIS_URL and os.environ.get("CACHE_URL", "").startswith(("redis://", "rediss://")):
    REDIS_URL = os.environ["CACHE_URL"]
# Culling drops live counters once the cache is full: keep it far above the keys one hour of
# enumeration attempts can make.
CACHE_MAX_ENTRIES = 1_000_000
CACHE_KIND = os.environ.get("EKTP_CACHE", "").strip().lower() or (
    "redis" if REDIS_URL else "database" if DATABASE_IS_POSTGRES else "host"
)
if CACHE_KIND == "redis":
    if not REDIS_URL:
        raise ImproperlyConfigured("EKTP_CACHE=redis needs REDIS_URL.")
    CACHES = {
        "default": {
            "BACKEND": "ektp.portal.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("EKTP_CACHE_PREFIX", "ektp"),
        }
    }
elif CACHE_KIND == "host":
    CACHES = {
        "default": {
            "BACKEND": "ektp.portal.hostcache.HostCache",
            "LOCATION": os.environ.get("EKTP_CACHE_DIR", str(VAR_DIR / "cache")),
            "OPTIONS": {"MAX_ENTRIES": CACHE_MAX_ENTRIES},
        }
    }
elif CACHE_KIND == "database":
    CACHES = {
        "default": {
            "BACKEND": "ektp.portal.cache.DatabaseCache",
            "LOCATION": "ektp_cache",
            "OPTIONS": {"MAX_ENTRIES": CACHE_MAX_ENTRIES},
        }
    }
else:
    raise ImproperlyConfigured(f"EKTP_CACHE={CACHE_KIND!r}: choose host, database or redis.")

# Public pages: rate limits against NIK enumeration, counted in the shared cache.
# django-ratelimit's own settings, each at the library's default, written out: a setting
# that is not defined is looked up again (and fails) on every inquiry.
RATELIMIT_ENABLE = True
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = False
# The client's address through the trusted proxies (django-ratelimit's documented hook).
RATELIMIT_IP_META_KEY = "ektp.core.net.client_ip"
RATELIMIT_IPV4_MASK = 32
RATELIMIT_IPV6_MASK = 64
RATELIMIT_CACHE_PREFIX = "rl:"
RATELIMIT_HASH_ALGORITHM = hashlib.sha256
PORTAL_RATE_PER_IP = os.environ.get("EKTP_PORTAL_RATE_PER_IP", "30/10m")
# Inquiries about one NIK, from anywhere: a short window, so that someone trying a resident's
# NIK from many addresses slows the inquiry for minutes, not an hour (the NIK holds the birth
# date anyway; what the answer could give away is behind a one-time code).
PORTAL_RATE_PER_NIK = os.environ.get("EKTP_PORTAL_RATE_PER_NIK", "5/10m")
# One-time access codes, sent to the phone on record, that open a resident's suket or booking.
# Minutes a code lives; wrong tries a code allows; seconds before a new code for the same
# document (doubling with each code of the last hour, up to the cap); minutes a correct code
# keeps the document open.
PORTAL_ACCESS_CODE_MINUTES = int(os.environ.get("EKTP_ACCESS_CODE_MINUTES", "10"))
PORTAL_ACCESS_CODE_ATTEMPTS = int(os.environ.get("EKTP_ACCESS_CODE_ATTEMPTS", "5"))
PORTAL_ACCESS_CODE_RESEND_SECONDS = int(os.environ.get("EKTP_ACCESS_CODE_RESEND_SECONDS", "30"))
PORTAL_ACCESS_CODE_RESEND_CAP_SECONDS = int(
    os.environ.get("EKTP_ACCESS_CODE_RESEND_CAP_SECONDS", "600")
)
PORTAL_ACCESS_GRANT_MINUTES = int(os.environ.get("EKTP_ACCESS_GRANT_MINUTES", "15"))

# Demo and seeding.
EKTP_DEMO_REGION = os.environ.get("EKTP_DEMO_REGION", "18.09")
