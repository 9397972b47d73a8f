"""Settings, read from the environment in this one module.

With no environment at all the project runs on one machine with no server installed: SQLite and a
filesystem Celery broker under ``var/``. Production sets DATABASE_URL (PostgreSQL),
CELERY_BROKER_URL (Redis), SECRET_KEY and ALLOWED_HOSTS; DEBUG is off unless asked for.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from fulfilment.error_tracking import init_error_tracking
from fulfilment.secret_key import embedded_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env beside manage.py is optional; real environment variables win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Runtime data (SQLite, locks, the embedded key, the serverless broker). Importing settings writes nothing:
# the folders are made once Django is set up (fulfilment/apps.py).
VAR_DIR = Path(env.str("FULFILMENT_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)


# Production sets SECRET_KEY; one that is a placeholder, short or predictable stops migrate and the web server
# (fulfilment/apps.py). Without it: a key generated on first use and kept in var/, so a first run needs no setup.
SECRET_KEY = env.str("SECRET_KEY", default="") or SimpleLazyObject(lambda: embedded_secret_key(VAR_DIR))

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The order screen's script reads the token from the cookie for every batch of scans: logging in
# again in another tab replaces it, and the page keeps working without a reload.
CSRF_COOKIE_HTTPONLY = False

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "import_export",
    "axes",  # before our apps: fulfilment.packing.admin replaces its attempts admin
    "fulfilment.apps.FulfilmentConfig",
    "fulfilment.orders",
    "fulfilment.notifications",
    "fulfilment.packing",
    "fulfilment.sandbox",
]

MIDDLEWARE = [
    # First and last: django-prometheus times the whole request and counts answers by view and status.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "fulfilment.request_ids.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "fulfilment.headers.PolicyMiddleware",  # django-csp's header, built once (headers.py, as the two below)
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "fulfilment.packing.middleware.LocaleMiddleware",  # Django's, the language looked up once per header pair
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's, with a 401 instead of the login page for htmx and fetch requests.
    "fulfilment.packing.login_required.LoginRequiredMiddleware",
    "fulfilment.packing.middleware.UserLanguageMiddleware",
    # After the language is known (the refusal is translated), before any view reads a parameter.
    "fulfilment.parameters.RefuseNulMiddleware",
    "fulfilment.headers.LazyMessageMiddleware",  # Django's, the storage made only when used
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: turns its lockout into our login page answered with 429.
    "axes.middleware.AxesMiddleware",
    "fulfilment.headers.RequestMetricsMiddleware",  # django-prometheus's, the figures an operator reads
]

ROOT_URLCONF = "fulfilment.urls"
WSGI_APPLICATION = "fulfilment.wsgi.application"
ASGI_APPLICATION = "fulfilment.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "fulfilment.accounts.roles.context",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
# The embedded default is SQLite in WAL mode with IMMEDIATE transactions, so the web server and the
# worker can write at the same time without "database is locked" on a first run.
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'fulfilment.sqlite3'}",
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not memory, so that a Celery worker started by an integration test sees the test data.
    DATABASES["default"].setdefault("TEST", {"NAME": str(VAR_DIR / "test-fulfilment.sqlite3")})
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # Behind PgBouncer in transaction mode (README, "PostgreSQL connections"): no server-side cursors.
    DATABASES["default"].setdefault("DISABLE_SERVER_SIDE_CURSORS", env.bool("DB_DISABLE_SERVER_SIDE_CURSORS",
                                                                            default=False))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Importing product barcodes is changing them; exporting them, seeing them (django-import-export).
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# axes first: it refuses a locked-out account before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with the roles read in the user's query (a session made by the plain ModelBackend
    # before this setting asks its user to log in once more).
    "fulfilment.accounts.backends.RolesBackend",
]
# Login throttling (fulfilment/packing/login.py). Packers share one NAT address, so the lock is per
# account from any address, never per address: a typo-prone packer cannot lock the warehouse out.
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
# Attempts while locked do not extend the lock (a packer retrying the right password is not punished).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "fulfilment.packing.login.lockout_response"
AXES_CLIENT_IP_CALLABLE = "fulfilment.client_ip.client_ip"
# Successful logins are not kept (an unbounded table); failed attempts are, with their address.
AXES_DISABLE_ACCESS_LOG = True
# Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (IPs or networks, comma-separated); none by
# default, so a client cannot choose the address it is counted under. The TLS proxy in front of gunicorn goes
# here; the one setting for fulfilment/wsgi.py, docker/gunicorn.conf.py and fulfilment/client_ip.py.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# axes.W006 wants the address in the lockout key; we lock accounts only, on purpose (see above).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# "fragments": rendered page rows ({% cache … using="fragments" %}, keyed on everything a row shows), in
# each process's memory (a round trip per row to Redis would cost more than rendering it); a day's queue is
# a few thousand rows, more than the default 300 entries (issue 17). "default" becomes Redis when there is one.
_LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
CACHES = {"default": {"BACKEND": _LOCMEM}, "fragments": {"BACKEND": _LOCMEM, "LOCATION": "fragments",
                                                         "OPTIONS": {"MAX_ENTRIES": 20_000}}}

# --- Language and time --------------------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "fulfilment" / "locale"]
USE_I18N = True
# The Market's DD-MM-YYYY HH:MM:SS values are Moscow time.
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Moscow")
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Stored files (packing photos): on disk under MEDIA_ROOT in the embedded default; in an S3-compatible bucket
# (MinIO in docker/compose.yaml, or any S3 service) when S3_BUCKET is set, through django-storages. The bucket
# stays private either way: the dashboard streams each photo to a logged-in user (packing/views/evidence.py),
# so pages never link to the bucket and the CSP's img-src stays 'self'. Never served as static files.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
S3_BUCKET = env.str("S3_BUCKET", default="")
_DEFAULT_STORAGE: dict = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if S3_BUCKET:
    _DEFAULT_STORAGE = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": S3_BUCKET,
        # MinIO's or another provider's address; unset, AWS's own for S3_REGION.
        "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
        "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
        "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
        "region_name": env.str("S3_REGION", default="us-east-1"),
        # MinIO and most S3-compatible services want bucket/key paths, not bucket.host names.
        "addressing_style": env.str("S3_ADDRESSING_STYLE", default="path"),
        "signature_version": "s3v4", "location": env.str("S3_PREFIX", default=""),
        "default_acl": None,  # the bucket's own policy: private
        "querystring_auth": True,  # any URL made for a file is signed and expires, never public
        "file_overwrite": False,  # a name taken already gets a suffix, never replaces a photo
    }}
_STATIC_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
STORAGES = {"default": _DEFAULT_STORAGE, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG else _STATIC_STORAGE}}
WHITENOISE_USE_FINDERS = DEBUG
# How long packing photos are kept; a daily task removes older ones, files and all.
EVIDENCE_PHOTO_DAYS = env.int("EVIDENCE_PHOTO_DAYS", default=90)
# How long after a return's creation a decision on it is still sent (orders/models/returns.py). An assumption:
# the Partner API's returns (ReturnDTO, ReturnDecisionDTO) and decision methods state no deadline; the Market's
# own refusal of a late decision is still shown as it comes. The sandbox applies 72 h too (decision_hours).
RETURN_DECISION_HOURS = env.float("RETURN_DECISION_HOURS", default=72.0)

# --- Security (production) ----------------------------------------------------------------------
# No SECURE_PROXY_SSL_HEADER: Django would believe X-Forwarded-Proto from any client. gunicorn sets the scheme
# from it only for a peer in TRUSTED_PROXIES, the proxy (docker/gunicorn.conf.py).
# The TLS proxy in front usually redirects; production sets SECURE_SSL_REDIRECT=true (docker/production.env).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No one frames our pages (the station's labels frame holds a blob: the page made, which has no headers).
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): our own scripts, styles and connections only; no inline script,
# style or handler anywhere (templates use data- attributes and static/js). The browser tests fail on any
# violation (tests/conftest.py), so a new inline handler cannot slip in.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # The favicon is an empty data: URL. Product pictures are copies kept here (orders/pictures.py),
        # not the Market's image servers: a handheld's network may not reach them, and no third party
        # learns who opened which order.
        "img-src": ["'self'", "data:"],
        # The station shows the labels PDF it fetched in a hidden frame as a blob: URL, and prints it there.
        "connect-src": ["'self'", "blob:"],
        "frame-src": ["'self'", "blob:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}
# Permissions-Policy (django-permissions-policy): the camera for evidence photos at packing, from our own
# pages only; everything else a page could ask the browser for is off.
PERMISSIONS_POLICY = {
    "camera": ["self"],
    "microphone": [],
    "geolocation": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "display-capture": [],
    "fullscreen": ["self"],
}
# Error pages and mailed reports hide secret-looking POST fields and variables (the API tokens), always.
DEFAULT_EXCEPTION_REPORTER_FILTER = "fulfilment.error_reports.SecretsHiddenFilter"
# Packers stay logged in for a shift; the session survives a browser restart.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 3600)

# --- Packing -----------------------------------------------------------------------------------
# What keyboard-wedge scanners type instead of the GS separator (configured per site; CODES.md).
SCANNER_GS_SUBSTITUTES = env.list("SCANNER_GS_SUBSTITUTES", default=["<GS>", "\\x1d", "\\u001d", "~", "|"])
LABEL_FORMATS = ["A7", "A9", "A9_HORIZONTALLY", "A4"]
# The stations' label printers: labels are read at this resolution before they are offered for printing
# (orders/label_check.py). 203 dpi is the common thermal printer; 300 for the finer ones.
LABEL_PRINTER_DPI = env.int("LABEL_PRINTER_DPI", default=203)
QUEUE_PAGE_SIZE = env.int("QUEUE_PAGE_SIZE", default=50)
# Open screens ask again this often whether the Market changed what they show (static/js/live.js;
# a 304 when nothing did): the order screen fast enough for a cancellation to show within 3 s of the
# Market's notification, the queue and the supervisor's list at a calmer pace.
LIVE_ORDER_SECONDS = env.float("LIVE_ORDER_SECONDS", default=1.0)
LIVE_LIST_SECONDS = env.float("LIVE_LIST_SECONDS", default=2.0)

# --- Celery -------------------------------------------------------------------------------------
# The embedded default broker is kombu's filesystem transport with atomic writes and acknowledgements
# (fulfilment/broker.py): a real worker and beat, no server.
_CELERY_FS = VAR_DIR / "celery"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=600)  # acks_late: a stuck worker's task redelivered
CELERY_VISIBILITY_TIMEOUT = _VISIBILITY_TIMEOUT  # orders/scheduling.py keeps countdowns below it
# A task that runs past these is stopped before the broker would give it to another worker.
CELERY_TASK_SOFT_TIME_LIMIT = max(1, _VISIBILITY_TIMEOUT - 100)
CELERY_TASK_TIME_LIMIT = max(2, _VISIBILITY_TIMEOUT - 60)
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT = "fulfilment.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_CELERY_FS / "queue"),
        "data_folder_out": str(_CELERY_FS / "queue"),
        # Taken, not yet acknowledged messages; a dead worker's go back to the queue.
        "processed_folder": str(_CELERY_FS / "processed"),
        # Files that never parsed (not written by this transport), kept for a look.
        "malformed_folder": str(_CELERY_FS / "malformed"),
        # Broadcast exchanges (worker control) go under var/ too, not into the working directory.
        "control_folder": str(_CELERY_FS / "control"),
        "visibility_timeout": _VISIBILITY_TIMEOUT,
    }
else:
    # Redis: redeliver an unacknowledged task (acks_late) after a killed worker within minutes.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": _VISIBILITY_TIMEOUT}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_DB_REUSE_MAX = 1000  # the connection kept between tasks: fulfilment/task_connections.py
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="fulfilment")
SYNC_INTERVAL_SECONDS = env.float("SYNC_INTERVAL_SECONDS", default=60.0)
# While the Market's notifications arrive, a reconciliation pass this often is enough.
SYNC_RECONCILE_MINUTES = env.float("SYNC_RECONCILE_MINUTES", default=10.0)
CELERY_BEAT_SCHEDULE = {
    "sync-all-businesses": {"task": "fulfilment.orders.tasks.sync_all_task", "schedule": SYNC_INTERVAL_SECONDS},
    "sweep-outbox": {"task": "fulfilment.orders.tasks.sweep_outbox_task",
                     "schedule": env.float("OUTBOX_SWEEP_SECONDS", default=30.0)},
    # /readyz: the beat schedules it, a worker runs it; not run within the limit, it is dropped.
    "heartbeat": {"task": "fulfilment.orders.tasks.heartbeat_task", "schedule": 30.0,
                  "options": {"expires": env.int("READY_HEARTBEAT_SECONDS", default=120)}},
    "sweep-notifications": {"task": "fulfilment.notifications.tasks.sweep_notifications_task", "schedule": 60.0},
    # Returns change slowly and notifications name them: a pass every few minutes is the safety net.
    "sync-all-returns": {"task": "fulfilment.orders.tasks.sync_all_returns_task",
                         "schedule": env.float("RETURNS_SYNC_SECONDS", default=300.0)},
    "prune-packing-photos": {"task": "fulfilment.orders.tasks.prune_photos_task", "schedule": 6 * 3600.0},
    # Shipments share 200 requests an hour per shop: a pass costs 1 + 2 per shipment (about 9).
    "sync-shipments": {"task": "fulfilment.orders.tasks.sync_shipments_task",
                       "schedule": env.float("SHIPMENT_SYNC_SECONDS", default=600.0)},
}

# Shared store for the client's rate limiter: Redis when there is one, else the database.
RATE_LIMIT_REDIS_URL = env.str(
    "RATE_LIMIT_REDIS_URL",
    default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "",
)

# Sessions: with a Redis to share (production, CI), read from it and written to the database too, so
# a logged-in request makes no session query and a login survives a restart (accounts/sessions.py).
# Without one (the embedded default), in the database: a cache in each process's memory would keep a
# session another worker logged out.
CACHE_REDIS_URL = env.str("CACHE_REDIS_URL", default=RATE_LIMIT_REDIS_URL)
if CACHE_REDIS_URL:
    # Redis gone: answered from the database after half a second, not hung.
    CACHES["default"] = {"BACKEND": "fulfilment.redis_cache.RedisCache", "LOCATION": CACHE_REDIS_URL,
                         "KEY_PREFIX": "fulfilment", "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}
    SESSION_ENGINE = "fulfilment.accounts.sessions"

# --- Market -------------------------------------------------------------------------------------
MARKET_API_BASE_URL = env.str("MARKET_API_BASE_URL", default="https://api.partner.market.yandex.ru")
MARKET_API_TIMEOUT = env.float("MARKET_API_TIMEOUT", default=30.0)
# Fernet keys for the API tokens at rest (fulfilment/orders/encryption.py), comma-separated: the
# first encrypts, all decrypt, so a new key goes first and the old one stays until re-encrypted.
# Unset: one key generated into var/ on first use (one machine; production sets it).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

# The Market's push notifications (POST <URL from the admin>/notification). Only these sources are
# heard: the Market's published ranges by default. The client's address is taken from
# X-Forwarded-For only when the direct peer is one of TRUSTED_PROXIES (the TLS proxy in front).
MARKET_NOTIFICATION_SOURCES = env.list(
    "MARKET_NOTIFICATION_SOURCES", default=["5.45.207.0/25", "141.8.142.0/25", "5.255.253.0/25"])
# Healthy: a notification or PING within this many minutes; otherwise polling runs at full rate.
MARKET_NOTIFICATION_HEALTHY_MINUTES = env.float("MARKET_NOTIFICATION_HEALTHY_MINUTES", default=15.0)
# Order events arriving within this many seconds of each other share one targeted refresh. It is most of
# the time from the Market's event to an open screen (bench/live_bench.py: at 2 s a cancellation reached the
# order screen in 3.5-3.8 s, at 1 s in 2.5-2.7 s; the target is 3 s), and a burst still shares a call.
MARKET_NOTIFICATION_COALESCE_SECONDS = env.float("MARKET_NOTIFICATION_COALESCE_SECONDS", default=1.0)

# --- Logging ------------------------------------------------------------------------------------
# LOG_FORMAT=json (compose sets it): one JSON object a line, for a log collector; plain text otherwise.
# Every line carries the request id (or the Celery task id): fulfilment/request_ids.py.
# Error tracking (Sentry, self-hosted Sentry, GlitchTip): off unless SENTRY_DSN is set; no personal data.
init_error_tracking(env.str("SENTRY_DSN", default=""), environment=env.str("SENTRY_ENVIRONMENT", default="production"),
                    release=env.str("SENTRY_RELEASE", default="") or None,
                    traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0))

# /metrics (Prometheus): open to these networks (the scraper's), or to anyone sending "Bearer METRICS_TOKEN".
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# /readyz's limits: older than these, the check fails (503).
READY_HEARTBEAT_SECONDS = env.int("READY_HEARTBEAT_SECONDS", default=120)
READY_SYNC_LAG_SECONDS = env.int("READY_SYNC_LAG_SECONDS", default=900)
READY_OUTBOX_AGE_SECONDS = env.int("READY_OUTBOX_AGE_SECONDS", default=600)
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "fulfilment.request_ids.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "pythonjsonlogger.json.JsonFormatter",
                 "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
                 "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json" if LOG_FORMAT == "json" else "plain",
                             "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # urllib3 logs full URLs at DEBUG; never headers, so tokens stay out of logs.
        "urllib3": {"level": "WARNING"},
    },
}
