"""Harbour settings, read from environment variables.

Safe defaults run Harbour embedded on one machine (SQLite under ``var/``, mail printed to the
console, a secret key generated once into ``var/``). ``HARBOUR_ENV=production`` turns on every
deployment protection and refuses to start without ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
The README lists every variable.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent.parent
VAR_DIR = Path(env("HARBOUR_VAR_DIR") or BASE_DIR / "var")

HARBOUR_ENV = env("HARBOUR_ENV", "development")
if HARBOUR_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(
        f"HARBOUR_ENV must be development, production or test, not {HARBOUR_ENV!r}."
    )
PRODUCTION = HARBOUR_ENV == "production"
# Demo mode: demo accounts may sign in without a second factor. Never in production.
DEMO_MODE = env_bool("HARBOUR_DEMO_MODE") and not PRODUCTION

DEBUG = env_bool("DEBUG", default=False) and not PRODUCTION


def _secret_key() -> str:
    key = env("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured(
            "HARBOUR_ENV=production needs SECRET_KEY (50+ random characters)."
        )
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "HARBOUR_ENV=production needs ALLOWED_HOSTS (comma-separated host names)."
    )
if not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "harbour.core.views.csrf_failure"

INSTALLED_APPS = [
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "harbour.core",
    "harbour.accounts",
    "harbour.notify",
    "harbour.directory",
    "harbour.drugcheck",
    "harbour.alerts",
    "harbour.checkins",
    "harbour.referrals",
    "harbour.surveillance",
    "harbour.meetings",
    "harbour.outreach",
    "harbour.mentoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "harbour.core.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "harbour.core.middleware.ApiJsonErrorsMiddleware",
    "harbour.core.middleware.LongQueryMiddleware",
    "harbour.core.middleware.RejectNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "harbour.accounts.middleware.RequireStaffMfaMiddleware",
]

ROOT_URLCONF = "harbour.urls"
WSGI_APPLICATION = "harbour.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "harbour.core.context_processors.harbour",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "harbour.sqlite3"
DATABASE_URL = env("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}"
if DATABASE_URL.startswith("sqlite:") and not env("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers and one writer work at once; IMMEDIATE avoids lock upgrades
        # failing under concurrent writes; busy timeout waits instead of failing.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA cache_size=-32000; PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": env("HARBOUR_TEST_SQLITE") or None}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compiles plans whose estimated cost is high; for Harbour's short queries that
    # took 240 ms to save nothing (a directory search runs in under 10 ms without it).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, allauth's sign-in limits) ------------------------------------------
# Shared by every process: Redis when REDIS_URL is set, else a table in the database (made by
# `harbour migrate`: core migration cache_table). Tests use one process's memory.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
elif HARBOUR_ENV == "test":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "harbour",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "harbour_cache",
        }
    }
# Addresses or networks of reverse proxies whose X-Forwarded-For is believed (comma-separated,
# e.g. "127.0.0.1,10.0.0.0/8"). Empty: the header is ignored and the connection's address counts.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")

# --- Tasks ----------------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# The worker proves it runs by recording a heartbeat this often (seconds).
HARBOUR_HEARTBEAT_SECONDS = int(env("HARBOUR_HEARTBEAT_SECONDS", "30"))
# Finished task rows (their arguments and return values) are deleted after this long.
HARBOUR_TASK_RESULTS_KEEP_SECONDS = int(env("HARBOUR_TASK_RESULTS_KEEP_SECONDS", "3600"))
HARBOUR_TASK_FAILURES_KEEP_SECONDS = int(env("HARBOUR_TASK_FAILURES_KEEP_SECONDS", "86400"))

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:dashboard"
ACCOUNT_ADAPTER = "harbour.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"  # staff arrive by invitation: the email is proven there
# A new address is confirmed from its own mailbox before it replaces the old one, and the old
# address is told (as it is of password and two-factor changes).
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
# ...which lets staff with two-factor authentication start a change too: the new address is
# unconfirmed until then, and a password reset goes to confirmed addresses only (adapter).
MFA_ALLOW_UNVERIFIED_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False  # never email an address that has no account
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Harbour: "
ACCOUNT_SESSION_REMEMBER = False
# Failed logins: 10 a minute from one address, 5 in 5 minutes for one account.
ACCOUNT_RATE_LIMITS = {
    "login": env("HARBOUR_LOGIN_RATE", "30/m/ip"),
    "login_failed": env("HARBOUR_LOGIN_FAILED_RATE", "10/m/ip,5/300s/key"),
    "reset_password": "20/m/ip,5/m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Harbour"
INVITATION_DAYS = 7

# --- Internationalization -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en", "fr")
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env("TIME_ZONE", "America/Toronto")
USE_I18N = True
USE_TZ = True
# unambiguous dates in both languages ("12 Feb 2026", "12 févr. 2026", tables "2026-02-12")
FORMAT_MODULE_PATH = ["harbour.formats"]

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Email ----------------------------------------------------------------------------------
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = 20
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION or env("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Harbour <no-reply@harbour.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Messages out and in (notify) ------------------------------------------------------------
# Encryption at rest for contact details: Fernet keys, newest first (see notify/crypto.py).
HARBOUR_FIELD_KEYS = env_list("HARBOUR_FIELD_KEYS")
HARBOUR_BLIND_INDEX_KEY = env("HARBOUR_BLIND_INDEX_KEY")
if PRODUCTION:
    # Derived from SECRET_KEY, the keys would fall with it (and a new SECRET_KEY would make
    # every stored phone number and address unreadable): production sets its own.
    if not HARBOUR_FIELD_KEYS or not HARBOUR_BLIND_INDEX_KEY:
        raise ImproperlyConfigured(
            "HARBOUR_ENV=production needs HARBOUR_FIELD_KEYS (Fernet keys, newest first) and "
            "HARBOUR_BLIND_INDEX_KEY (32+ random characters)."
        )
    from cryptography.fernet import Fernet

    for _key in HARBOUR_FIELD_KEYS:
        try:
            Fernet(_key.encode())
        except ValueError as _exc:
            raise ImproperlyConfigured(
                "HARBOUR_FIELD_KEYS holds a value that is not a Fernet key (make one with "
                "`python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)."
            ) from _exc
    if len(HARBOUR_BLIND_INDEX_KEY) < 32:
        raise ImproperlyConfigured("HARBOUR_BLIND_INDEX_KEY needs 32+ random characters.")
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN")
TWILIO_FROM = env("TWILIO_FROM")  # a number (+1...) or a messaging service SID (MG...)
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL", "https://api.twilio.com")
TWILIO_STATUS_CALLBACK_URL = env("TWILIO_STATUS_CALLBACK_URL")
# twilio, console or none; empty: twilio with credentials, else console (none in production)
NOTIFY_SMS_BACKEND = env("NOTIFY_SMS_BACKEND")
NOTIFY_SMS_PER_SECOND = float(env("NOTIFY_SMS_PER_SECOND", "0") or 0)
NOTIFY_EMAIL_PER_SECOND = float(env("NOTIFY_EMAIL_PER_SECOND", "0") or 0)
NOTIFY_LEASE_SECONDS = float(env("NOTIFY_LEASE_SECONDS", "120") or 120)
NOTIFY_SWEEP_SECONDS = float(env("NOTIFY_SWEEP_SECONDS", "30") or 30)
NOTIFY_URGENT_LEASE_SECONDS = float(env("NOTIFY_URGENT_LEASE_SECONDS", "10") or 10)
# how long the outbox keeps a message's recipient and text once it is final (sent, delivered,
# failed or cancelled), counted from when it was queued; replies to inbound texts are blanked
# as soon as they are final (docs/architecture.md, "Outbox retention")
NOTIFY_KEEP_DAYS = float(env("NOTIFY_KEEP_DAYS", "7") or 7)
NOTIFY_KEEP_URGENT_HOURS = float(env("NOTIFY_KEEP_URGENT_HOURS", "24") or 24)
# the check-in watchdog tells staff on duty when a step is overdue by more than this
CHECKIN_LAG_ALERT_SECONDS = float(env("CHECKIN_LAG_ALERT_SECONDS", "5") or 5)
# a session still open this long after it started is closed by the clock (staff on duty told)
CHECKIN_MAX_OPEN_HOURS = float(env("CHECKIN_MAX_OPEN_HOURS", "12") or 12)
# call-outs a number may receive per day from sessions it did not start
CHECKIN_CALLOUTS_PER_NUMBER_PER_DAY = int(env("CHECKIN_CALLOUTS_PER_NUMBER_PER_DAY", "3") or 3)
VAPID_PUBLIC_KEY = env("VAPID_PUBLIC_KEY")
VAPID_PRIVATE_KEY = env("VAPID_PRIVATE_KEY")
VAPID_SUBJECT = env("VAPID_SUBJECT", "mailto:admin@harbour.invalid")
# the only hosts a browser's web-push endpoint may point at (Harbour posts to it): a name is
# that host exactly, ".name" any host under it. Defaults: Google FCM (Chrome, Edge on Android),
# Mozilla autopush (Firefox), Apple (Safari), Microsoft WNS (Edge on Windows).
WEBPUSH_ALLOWED_HOSTS = env_list(
    "WEBPUSH_ALLOWED_HOSTS",
    "fcm.googleapis.com,updates.push.services.mozilla.com,.push.services.mozilla.com,"
    ".push.apple.com,.notify.windows.com",
)
HARBOUR_BASE_URL = env("HARBOUR_BASE_URL", "http://127.0.0.1:8000")

# --- Security -------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(env("SESSION_COOKIE_AGE", str(12 * 3600)))
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Logging --------------------------------------------------------------------------------
# Every record goes through core.logs.ScrubFilter: no client address, no query string, no token
# from a path. Django's request errors are logged here too, never mailed (no mail_admins).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "harbour.core.logs.ScrubFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["scrub"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "django_tasks_db": {"level": env("LOG_LEVEL", "INFO")},
    },
}

# --- Harbour --------------------------------------------------------------------------------
# Where "Quick exit" sends a person: a neutral page that replaces this one in the history.
HARBOUR_QUICK_EXIT_URL = env("HARBOUR_QUICK_EXIT_URL", "https://www.theweathernetwork.com/ca")
NINJA_PAGINATION_PER_PAGE = 50
# Map tiles for the results map, loaded only when a person presses "Show map". Empty: no map.
HARBOUR_MAP_TILES = env("HARBOUR_MAP_TILES", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
HARBOUR_MAP_ATTRIBUTION = env("HARBOUR_MAP_ATTRIBUTION", "© OpenStreetMap contributors")
if HARBOUR_MAP_TILES.startswith("https://"):
    _tile_host = "https://" + HARBOUR_MAP_TILES.removeprefix("https://").split("/")[0]
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(_tile_host)
