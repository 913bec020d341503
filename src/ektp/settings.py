"""Settings for ektp, read once from the environment (12-factor)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("EKTP_HOME", Path.cwd()))
VAR_DIR = Path(os.environ.get("EKTP_VAR_DIR", PROJECT_DIR / "var"))

DEVELOPMENT_SECRET_KEY = "ektp-development-only-secret-key-not-for-production"


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
SECRET_KEY = os.environ.get("EKTP_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
if ENVIRONMENT == "production" and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured("EKTP_SECRET_KEY must be set in production.")

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
    "csp",
    "django_tasks",
    "django_tasks_db",
    "ektp.core",
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
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "ektp.core.middleware.RegionChoiceMiddleware",
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

# SQLite (WAL) under var/ by default; PostgreSQL through DATABASE_URL.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    # psycopg prepares a statement run this many times on a connection through a cursor of
    # ektp.core.prepared (the public status inquiry): "off" behind a proxy that pools by
    # transaction and cannot keep prepared statements.
    _prepare = os.environ.get("EKTP_PG_PREPARE_THRESHOLD", "5")
    if _prepare.lower() not in ("", "off", "none"):
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = int(_prepare)
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "ektp.sqlite3",
            # Keep the connection between requests: opening one and running the PRAGMAs
            # costs more than a whole public status inquiry.
            "CONN_MAX_AGE": 60,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;PRAGMA busy_timeout=30000;"
                ),
            },
        }
    }
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

# Lockout after repeated failures (django-axes): per username and address.
AXES_FAILURE_LIMIT = int(os.environ.get("EKTP_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "ektp.core.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True

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
    SECURE_HSTS_SECONDS = 31536000

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("EKTP_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Biometric templates and images at rest (Fernet). Comma-separated keys: the first encrypts,
# all decrypt. Unset in development: a key is derived from SECRET_KEY.
EKTP_BIOMETRIC_KEY = os.environ.get("EKTP_BIOMETRIC_KEY", "")
if ENVIRONMENT == "production" and not EKTP_BIOMETRIC_KEY:
    raise ImproperlyConfigured("EKTP_BIOMETRIC_KEY must be set in production.")

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

# Penunggalan: the enrollment task hands SFE records to the dedup pipeline.
EKTP_PENUNGGALAN_HANDLER = os.environ.get(
    "EKTP_PENUNGGALAN_HANDLER", "ektp.dedup.services.run_penunggalan"
)

# Suket: QR payload key (Ed25519) and the office's PAdES key and certificate (PEM paths).
# Empty outside production: a development pair is generated once under var/keys/.
EKTP_SUKET_QR_KEY = os.environ.get("EKTP_SUKET_QR_KEY", "")
EKTP_SUKET_SIGNING_KEY = os.environ.get("EKTP_SUKET_SIGNING_KEY", "")
EKTP_SUKET_SIGNING_CERT = os.environ.get("EKTP_SUKET_SIGNING_CERT", "")
if ENVIRONMENT == "production" and not (
    EKTP_SUKET_QR_KEY and EKTP_SUKET_SIGNING_KEY and EKTP_SUKET_SIGNING_CERT
):
    raise ImproperlyConfigured("Kunci suket (EKTP_SUKET_*) harus diisi di produksi.")
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
    "redis" if REDIS_URL else "database" if DATABASE_URL else "host"
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
RATELIMIT_IP_META_KEY = None
RATELIMIT_IPV4_MASK = 32
RATELIMIT_IPV6_MASK = 64
RATELIMIT_CACHE_PREFIX = "rl:"
RATELIMIT_HASH_ALGORITHM = hashlib.sha256
PORTAL_RATE_PER_IP = os.environ.get("EKTP_PORTAL_RATE_PER_IP", "30/10m")
PORTAL_RATE_PER_NIK = os.environ.get("EKTP_PORTAL_RATE_PER_NIK", "5/h")

# Demo and seeding.
EKTP_DEMO_REGION = os.environ.get("EKTP_DEMO_REGION", "18.09")
