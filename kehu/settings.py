"""Kehu settings. Everything that differs between machines comes from the environment (SPEC §11)."""

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KEHU_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

TESTING = "pytest" in sys.modules


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Development is the default only on a checkout without SECRET_KEY; deployments set SECRET_KEY
# (and so run with DEBUG off unless they ask for it).
DEBUG = env_bool("DEBUG", default=not os.environ.get("SECRET_KEY"))


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # A development key, generated once per checkout and kept out of git.
    key_file = VAR_DIR / "dev-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
if DEBUG or TESTING:
    ALLOWED_HOSTS += ["testserver", "[::1]"]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_htmx",
    "django_filters",
    "django_tables2",
    "axes",
    "django_q",
    "kehu.core",
    "kehu.org",
    "kehu.basics",
    "kehu.audit",
    "kehu.customers",
    "kehu.pool",
    "kehu.imports",
    "kehu.followups",
    "kehu.documents",
    "kehu.ledger",
    "kehu.sales",
    "kehu.aftersales",
    "kehu.recyclebin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kehu.core.middleware.SecurityHeadersMiddleware",  # CSP, no-store (not on static files)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kehu.core.middleware.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kehu.core.middleware.RequestContextMiddleware",
    "kehu.core.middleware.RequestBodyMiddleware",  # unreadable bodies: Chinese 400/413
    "kehu.core.middleware.ApplicationErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kehu.urls"
WSGI_APPLICATION = "kehu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kehu" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kehu.core.context_processors.navigation",
            ],
        },
    },
]

FORM_RENDERER = "kehu.core.forms.KehuFormRenderer"  # <input>/<select> without a template per option

DATABASES = {
    # An empty DATABASE_URL means the default too (not a settings error).
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'kehu.sqlite3'}",
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A page's queries are short: no JIT compilation (a first page over 2,000,000 contacts spent
    # 29 ms compiling) and no parallel workers (starting them cost more than they saved: a
    # salesperson's 联系人列表 48 → 14 ms of SQL; on 2 cores they also take the other users'
    # CPU). Long analytical work can SET them back for its own session. (issue 15)
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "options", "-c jit=off -c max_parallel_workers_per_gather=0"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "kehu.org.backends.RoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if TESTING:
    # Fast hashing in tests only; real deployments keep Django's default PBKDF2/argon2 chain.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "kehu" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("KEHU_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "kehu" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if (DEBUG or TESTING)
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
MEDIA_ROOT = Path(os.environ.get("KEHU_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Security. HTTPS-only settings (secure cookies, SSL redirect, HSTS) follow the explicit
# KEHU_HTTPS flag, not DEBUG: `SECRET_KEY=… make run` must still work over plain http on
# localhost, while a deployment behind TLS sets KEHU_HTTPS=1 (docs/deploy.md) and
# `manage.py check --deploy` warns when it is missing.
KEHU_HTTPS = env_bool("KEHU_HTTPS") and not TESTING
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # HTMX reads the token from the page, not the cookie.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if KEHU_HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Trusted only because the reverse proxy in front sets (overwrites) X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Login throttling (django-axes): the login page and the API token endpoint share it. Two
# limits per AXES_COOLOFF_TIME: 5 failures of one username from one address, and 20 failures of
# any usernames from one address (kehu/org/login_protection.py; 0 turns the second off).
AXES_FAILURE_LIMIT = int(os.environ.get("KEHU_LOGIN_FAILURE_LIMIT", 5))
KEHU_LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("KEHU_LOGIN_ADDRESS_FAILURE_LIMIT", 20))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "kehu.org.login_protection.LoginThrottleHandler"
AXES_CLIENT_IP_CALLABLE = "kehu.core.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
# The client address (login throttle, change log) is REMOTE_ADDR unless the app runs behind
# reverse proxies: then name the header they set (e.g. HTTP_X_FORWARDED_FOR or X-Real-IP), how
# many proxies append to it, and optionally the proxies' addresses/networks (comma-separated).
# Without the header setting a client-sent X-Forwarded-For is ignored (kehu/core/client_ip.py).
KEHU_TRUSTED_PROXY_HEADER = os.environ.get("KEHU_TRUSTED_PROXY_HEADER", "")
KEHU_TRUSTED_PROXY_COUNT = int(os.environ.get("KEHU_TRUSTED_PROXY_COUNT", 1))
KEHU_TRUSTED_PROXY_IPS = [
    ip.strip() for ip in os.environ.get("KEHU_TRUSTED_PROXY_IPS", "").split(",") if ip.strip()
]
AXES_LOCKOUT_CALLABLE = "kehu.org.auth.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False

# Background worker (django-q2 on the ORM broker: works with SQLite and PostgreSQL alike).
Q_CLUSTER = {
    "name": "kehu",
    "orm": "default",
    "workers": int(os.environ.get("KEHU_WORKERS", 2)),
    "timeout": 1800,
    "retry": 2000,
    "max_attempts": 1,
    "catch_up": False,
    "sync": TESTING,
    # A worker whose peak memory passed this (KB) is replaced after its task, so one large job
    # never leaves it big (issue 10); imports parse in a child process with its own ceiling.
    "max_rss": int(os.environ.get("KEHU_WORKER_MAX_RSS_KB", 512 * 1024)),
}

DJANGO_TABLES2_TEMPLATE = "core/table.html"
DJANGO_TABLES2_PAGE_RANGE = 7

KEHU_PAGE_SIZES = [20, 50, 100]
# Ids one batch request (batch delete, transfer, to pool, claim …) may name; more are refused
# with a message pointing to 分批操作 or “全部符合条件的记录” (issue 10, batch limits).
KEHU_BATCH_MAX_IDS = int(os.environ.get("KEHU_BATCH_MAX_IDS", 500))
KEHU_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
KEHU_IMPORT_MAX_BYTES = int(os.environ.get("KEHU_IMPORT_MAX_BYTES", 20 * 1024 * 1024))
KEHU_IMPORT_MAX_ROWS = int(os.environ.get("KEHU_IMPORT_MAX_ROWS", 100_000))
# Checked before any cell is parsed, and while the cells stream (kehu/imports/limits.py); the
# parsing child process gets at most memory_mb of address space and cpu_seconds of CPU.
KEHU_IMPORT_LIMITS = {
    "max_columns": int(os.environ.get("KEHU_IMPORT_MAX_COLUMNS", 100)),
    "max_cell_chars": int(os.environ.get("KEHU_IMPORT_MAX_CELL_CHARS", 2_000)),
    "max_unzipped_bytes": int(os.environ.get("KEHU_IMPORT_MAX_UNZIPPED_MB", 200)) * 1024 * 1024,
    "max_ratio": int(os.environ.get("KEHU_IMPORT_MAX_RATIO", 100)),
    "max_members": int(os.environ.get("KEHU_IMPORT_MAX_MEMBERS", 1_000)),
    "memory_mb": int(os.environ.get("KEHU_IMPORT_PARSE_MEMORY_MB", 1_024)),
    "cpu_seconds": int(os.environ.get("KEHU_IMPORT_PARSE_CPU_SECONDS", 600)),
}
# A check or run without progress for this long has lost its worker: it may be continued.
KEHU_IMPORT_STALE_SECONDS = int(os.environ.get("KEHU_IMPORT_STALE_SECONDS", 600))
# List pages count exactly up to this many matches, then show PostgreSQL's estimate (总共约 N).
KEHU_EXACT_COUNT_CAP = int(os.environ.get("KEHU_EXACT_COUNT_CAP", 1_000))
# 查重 per user (API, dialog and the save-time warning together) against enumerating the masked
# phones of pool customers (SPEC §13): beyond either window → 429; 0 turns a window off.
# "minute" is the last 60 seconds, "day" the calendar day (Asia/Shanghai). Counted from the
# customers.DuplicateCheckLog table — kehu/customers/throttle.py says why not the cache.
KEHU_DUPLICATE_CHECK_LIMITS = {
    "minute": int(os.environ.get("KEHU_DUPLICATE_CHECK_PER_MINUTE", 30)),
    "day": int(os.environ.get("KEHU_DUPLICATE_CHECK_PER_DAY", 300)),
}
# API tokens (POST /api/v1/auth/token) expire this many days after they are issued; signing
# out, a password change or an administrator revokes them earlier (SPEC §13).
KEHU_API_TOKEN_DAYS = int(os.environ.get("KEHU_API_TOKEN_DAYS", 30))
# Deleted customers, contacts, follow-ups, 商机 and documents stay this many days in the 回收站
# (kehu/recyclebin) before the daily job purges them and their files (SPEC §13).
KEHU_RECYCLE_DAYS = int(os.environ.get("KEHU_RECYCLE_DAYS", 30))
# 通知代办 of 售后 (issue 12): a vehicle's maintenance due within these days, its annual
# inspection due within these days (overdue ones included).
KEHU_MAINTENANCE_REMIND_DAYS = int(os.environ.get("KEHU_MAINTENANCE_REMIND_DAYS", 7))
KEHU_INSPECTION_REMIND_DAYS = int(os.environ.get("KEHU_INSPECTION_REMIND_DAYS", 30))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
