"""Settings for the notification service. Every value comes from the environment; the defaults are the
embedded development setup (SQLite under var/, e-mail into var/mail/)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("NOTIFICATIONS_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = _env_bool("DEBUG", False)
# The development key is only for the embedded default; a system check warns when it is used with DEBUG off.
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-insecure-secret-key-change-me")
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs page's Swagger UI from its own static files, not from a CDN
    "notifications.apps.NotificationsConfig",
]

MIDDLEWARE = [
    "notifications.overload.PoolExhaustedMiddleware",  # no database connection free: 503 + Retry-After
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "notification_service.urls"
ASGI_APPLICATION = "notification_service.asgi.application"
WSGI_APPLICATION = "notification_service.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'notifications.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
# `manage.py serve` starts one web process per core (plus itself, which runs the worker and the consumer); each
# process has its own pool. The default keeps them all to about half of PostgreSQL's max_connections (100),
# leaving the rest to consumers, workers and LISTEN connections.
SERVE_WORKERS = int(os.environ.get("SERVE_WORKERS", "0"))  # 0: one per core on PostgreSQL, 1 on SQLite
DATABASE_POOL = _env_bool("DATABASE_POOL", True)
DATABASE_POOL_MAX_SIZE = int(os.environ.get("DATABASE_POOL_MAX_SIZE", "0")) or min(
    8, max(2, 50 // ((os.cpu_count() or 1) + 1)))
DATABASE_POOL_MIN_SIZE = min(int(os.environ.get("DATABASE_POOL_MIN_SIZE", "1")), DATABASE_POOL_MAX_SIZE)
# Seconds a request waits for a free connection before it is answered 503 with Retry-After.
DATABASE_POOL_TIMEOUT = float(os.environ.get("DATABASE_POOL_TIMEOUT", "5"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_POOL:
    # Django's own psycopg pool: a connection goes back to the pool when the request (or the worker's loop
    # iteration) ends, so no thread keeps one of its own. Persistent connections and the pool exclude each other.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": DATABASE_POOL_MIN_SIZE, "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": DATABASE_POOL_TIMEOUT, "name": "default",
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the web process read while the worker writes; IMMEDIATE avoids lock upgrades mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# E-mail: Django's own settings, so any backend (SMTP, django-anymail ESPs) plugs in unchanged.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "notifications@localhost")

KAFKA_BOOTSTRAP_SERVERS = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")

# librdkafka settings from the environment: KAFKA_CONFIG_<NAME> -> <name with '_' as '.'>, e.g.
# KAFKA_CONFIG_SECURITY_PROTOCOL=SASL_SSL -> security.protocol; plus the common ones by their usual names.
_KAFKA_ALIASES = {
    "KAFKA_SECURITY_PROTOCOL": "security.protocol",
    "KAFKA_SASL_MECHANISM": "sasl.mechanism",
    "KAFKA_SASL_USERNAME": "sasl.username",
    "KAFKA_SASL_PASSWORD": "sasl.password",
    "KAFKA_SSL_CA_LOCATION": "ssl.ca.location",
    "KAFKA_SSL_CERTIFICATE_LOCATION": "ssl.certificate.location",
    "KAFKA_SSL_KEY_LOCATION": "ssl.key.location",
    "KAFKA_SSL_KEY_PASSWORD": "ssl.key.password",
}
KAFKA_CLIENT_CONFIG = {prop: os.environ[name] for name, prop in _KAFKA_ALIASES.items() if os.environ.get(name)}
KAFKA_CLIENT_CONFIG.update(
    {
        name[len("KAFKA_CONFIG_"):].lower().replace("_", "."): value
        for name, value in os.environ.items()
        if name.startswith("KAFKA_CONFIG_") and value
    }
)

# The app's own settings, read through notifications.conf.get_setting().
NOTIFICATIONS = {
    "KAFKA_BOOTSTRAP_SERVERS": KAFKA_BOOTSTRAP_SERVERS,
    "KAFKA_TOPICS": _env_list("KAFKA_TOPICS", "auth-events,hr-events,billing-events,app-events"),
    "KAFKA_CLIENT_CONFIG": KAFKA_CLIENT_CONFIG,
    "KAFKA_GROUP_ID": os.environ.get("KAFKA_GROUP_ID", "notifications-service"),
    "KAFKA_DEAD_LETTER_TOPIC": os.environ.get("KAFKA_DEAD_LETTER_TOPIC", "notifications-dead-letter"),
    "KAFKA_CREATE_TOPICS": _env_bool("KAFKA_CREATE_TOPICS", False),
    "KAFKA_TOPIC_PARTITIONS": int(os.environ.get("KAFKA_TOPIC_PARTITIONS", "6")),
    "KAFKA_REPLICATION_FACTOR": int(os.environ.get("KAFKA_REPLICATION_FACTOR", "1")),
    "KAFKA_BATCH_SIZE": int(os.environ.get("KAFKA_BATCH_SIZE", "500")),
    "KAFKA_BATCH_WAIT_MS": float(os.environ.get("KAFKA_BATCH_WAIT_MS", "100")),
    # librdkafka's log lines: the same line at most once per this many seconds per client (kafka/client_log.py).
    "KAFKA_CLIENT_LOG_INTERVAL_SECONDS": float(os.environ.get("KAFKA_CLIENT_LOG_INTERVAL_SECONDS", "30")),
    # Keys in Fernet's format, newest first, comma separated. Without one, a key is derived from SECRET_KEY
    # (development). Secrets are sealed with AES-256-SIV; "fernet" seals as versions before it did, for a rolling
    # upgrade while older processes still run.
    "ENCRYPTION_KEYS": _env_list("NOTIFICATIONS_ENCRYPTION_KEYS"),
    "ENCRYPTION_FORMAT": os.environ.get("NOTIFICATIONS_ENCRYPTION_FORMAT", "aes-siv"),
    "DEFAULT_APP_URL": os.environ.get("NOTIFICATIONS_DEFAULT_APP_URL", "http://127.0.0.1:8000"),
    "MAX_ATTEMPTS": int(os.environ.get("NOTIFICATIONS_MAX_ATTEMPTS", "5")),
    "RETRY_BASE_SECONDS": float(os.environ.get("NOTIFICATIONS_RETRY_BASE_SECONDS", "30")),
    "DELIVERY_BATCH_SIZE": int(os.environ.get("NOTIFICATIONS_DELIVERY_BATCH_SIZE", "1000")),
    "DELIVERY_POLL_SECONDS": float(os.environ.get("NOTIFICATIONS_DELIVERY_POLL_SECONDS", "1.0")),
    # How far ahead an event may be scheduled (deliver_at / delay; notifications/scheduling/).
    "SCHEDULE_HORIZON_DAYS": float(os.environ.get("NOTIFICATIONS_SCHEDULE_HORIZON_DAYS", "90")),
    "DELIVERY_CONCURRENCY": int(os.environ.get("NOTIFICATIONS_DELIVERY_CONCURRENCY", "100")),
    "DELIVERY_LINGER_MS": float(os.environ.get("NOTIFICATIONS_DELIVERY_LINGER_MS", "50")),
    "DELIVERY_LEASE_SECONDS": float(os.environ.get("NOTIFICATIONS_DELIVERY_LEASE_SECONDS", "300")),
    # The most bulk-lane (fan-out) records one claim takes; 0: two rounds of DELIVERY_CONCURRENCY.
    "DELIVERY_BULK_CLAIM": int(os.environ.get("NOTIFICATIONS_DELIVERY_BULK_CLAIM", "0")),
    # Recipients per fan-out chunk, one transaction each (notifications/audiences).
    "FANOUT_CHUNK": int(os.environ.get("NOTIFICATIONS_FANOUT_CHUNK", "5000")),
    # History kept, in days per class (null: forever; tenants override with settings["retention_days"]), and the
    # workers' background pruning: every RETENTION_INTERVAL_SECONDS (0: off) for at most RETENTION_BUDGET_SECONDS
    # (notifications/history/retention.py).
    "RETENTION_DAYS": {
        name: (None if os.environ[f"NOTIFICATIONS_RETENTION_DAYS_{name.upper()}"] in ("", "forever")
               else int(os.environ[f"NOTIFICATIONS_RETENTION_DAYS_{name.upper()}"]))
        for name in ("events", "records", "inbox") if f"NOTIFICATIONS_RETENTION_DAYS_{name.upper()}" in os.environ
    },
    "RETENTION_INTERVAL_SECONDS": float(os.environ.get("NOTIFICATIONS_RETENTION_INTERVAL_SECONDS", "300")),
    "RETENTION_BUDGET_SECONDS": float(os.environ.get("NOTIFICATIONS_RETENTION_BUDGET_SECONDS", "0.5")),
    # PostgreSQL: the history tables' time partitions, days wide, made this many ahead of the current one
    # (notifications/history/partitions.py).
    "PARTITION_DAYS": int(os.environ.get("NOTIFICATIONS_PARTITION_DAYS", "7")),
    "PARTITIONS_AHEAD": int(os.environ.get("NOTIFICATIONS_PARTITIONS_AHEAD", "2")),
    # Providers' HTTP client: "own" or "aiohttp"; empty for the measured default (channels/transport.py).
    "HTTP_TRANSPORT": os.environ.get("NOTIFICATIONS_HTTP_TRANSPORT", ""),
    # Per channel, e.g. NOTIFICATIONS_MAX_ATTEMPTS_SMS=3.
    "MAX_ATTEMPTS_BY_CHANNEL": {
        channel: int(os.environ[f"NOTIFICATIONS_MAX_ATTEMPTS_{channel.upper()}"])
        for channel in ("email", "sms", "push")
        if os.environ.get(f"NOTIFICATIONS_MAX_ATTEMPTS_{channel.upper()}")
    },
    "OUTBOX_DIR": os.environ.get("NOTIFICATIONS_OUTBOX_DIR", str(VAR_DIR / "outbox")),
    "DEMO_TENANT_ID": os.environ.get("NOTIFICATIONS_DEMO_TENANT_ID", "demo"),
    # End-user inbox tokens: JWTs from the customer's auth service, verified with a shared secret (HS256) or
    # a public key (RS256/ES256). Claims: sub (user id), tenant_id, exp.
    "INBOX_JWT_SECRET": os.environ.get("NOTIFICATIONS_INBOX_JWT_SECRET", ""),
    "INBOX_JWT_PUBLIC_KEY": os.environ.get("NOTIFICATIONS_INBOX_JWT_PUBLIC_KEY", ""),
    "INBOX_JWT_AUDIENCE": os.environ.get("NOTIFICATIONS_INBOX_JWT_AUDIENCE", ""),
    # The demo inbox page mints tokens for any user of the demo tenant: development only.
    "INBOX_DEMO": _env_bool("NOTIFICATIONS_INBOX_DEMO", SECRET_KEY.startswith("dev-insecure")),
    # Live inbox streams (SSE) per end user and per tenant, in each web process; one more is refused with 429.
    "INBOX_STREAMS_PER_USER": int(os.environ.get("NOTIFICATIONS_INBOX_STREAMS_PER_USER", "5")),
    "INBOX_STREAMS_PER_TENANT": int(os.environ.get("NOTIFICATIONS_INBOX_STREAMS_PER_TENANT", "1000")),
    # Without a tenant provider, SMS and push go to the log provider (var/outbox/) only in development: it keeps
    # message text, codes included, in plain files.
    "DEV_PROVIDERS": _env_bool("NOTIFICATIONS_DEV_PROVIDERS", SECRET_KEY.startswith("dev-insecure")),
    # Your own event handlers, "module.path:ClassName", comma separated: every process (consumer, worker, API)
    # registers them at start-up (notifications/events/configured.py).
    "HANDLERS": _env_list("NOTIFICATIONS_HANDLERS"),
}

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")  # "json" in production
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "notifications.security.redaction.RedactingFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "notifications.observability.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
