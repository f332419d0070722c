"""GradeCraft settings, driven by the environment (see .env.example).

With nothing configured the app runs on SQLite with eager (in-process) Celery tasks, so a
newcomer sees it working in one command. ``DEBUG`` is off unless asked for (``make run`` and the
test suite ask for it); off, a real ``SECRET_KEY`` is required and HTTPS, HSTS and secure cookies
are on.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

_INSECURE_KEY = "django-insecure-gradecraft-development-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_INSECURE_KEY)
if not DEBUG and (SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random string of at least 32 characters when DEBUG=False "
        "(DEBUG is off unless asked for; for local development set DEBUG=True, as `make run` does)."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Reverse proxies in front of the app (a TLS terminator, a load balancer): only then is the
# client's address read from X-Forwarded-For, that many entries from its end (common/net.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "common",
    "access",
    "orders",
    "reviews",
    "metrics",
    "notifications",
]
# The demo world (seed_demo and its demo logins) exists only in demo mode: never in production.
# DEMO=False turns it off in development too; it never turns on with DEBUG off.
DEMO = DEBUG and env.bool("DEMO", default=True)
if DEMO:
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Every answer past the static files is per user: Cache-Control: private, no-store.
    "common.middleware.PrivateNoStore",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Pages speak the visitor's language (Accept-Language, or the switch's cookie); the API and
    # /healthz always answer in LANGUAGE_CODE: integrations parse them (SPEC §8).
    "common.middleware.PageLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "common.middleware.AppErrorPages",
    # Last: turns a sign-in refused by django-axes into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Sign-in throttling (django-axes): a run of failed logins locks out that username from that
# address, and the address as a whole, for a cool-off; the login page, the admin's and the
# sign-in links (orders/views.py) all count. Attempts are rows in the database, so every
# process sees them and a test's transaction rolls them back. The address is the client's as
# far as TRUSTED_PROXY_COUNT says (common/net.py): X-Forwarded-For only behind a proxy.
AUTHENTICATION_BACKENDS = [
    "common.auth.ThrottledSignInBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_CLIENT_IP_CALLABLE = "common.net.client_ip"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Attempts during a lockout are refused uncounted: it ends COOLOFF after the failure that began it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False

# Content-Security-Policy on every response (django-csp): this site's own files only, no
# external source, no inline script. Inline style *attributes* are allowed (a progress bar's
# width); they cannot run code, and <style> elements stay refused.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

ROOT_URLCONF = "gradecraft.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "gradecraft.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if "postgresql" in DATABASES["default"]["ENGINE"]:
    # JIT compilation cost 2.3 s against 0.3 s of execution on a 1,000-seller metrics query.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves several writers at once: WAL (readers never wait for the
    # writer), a generous busy timeout, and transactions that take the write lock when they
    # begin (IMMEDIATE), so a writer waits its turn instead of failing with "database is locked"
    # when it upgrades a read lock (a deferred transaction cannot wait for that).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# A /bulk request of 1,000 reviews with 5,000-character Korean comments is ~15 MB (30 MB
# \u-escaped): Django's 2.5 MB default would refuse a valid batch.
DATA_UPLOAD_MAX_MEMORY_SIZE = 32 * 1024 * 1024

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# English unless the visitor prefers Korean (Accept-Language or the language switch); the
# compiled catalogues (locale/*/LC_MESSAGES/django.mo) are committed, so nothing is compiled at
# run time. Dates and numbers follow the language (Django's formats for en and ko).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ko", "한국어")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "gradecraft_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Month boundaries of every evaluation period are taken in this zone (SPEC §3).
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Seoul")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# In development, serve static files straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "login"
# Lifetime of a seller's single-use sign-in link (POST /api/v1/sellers/{id}/login-link).
LOGIN_LINK_MINUTES = env.int("LOGIN_LINK_MINUTES", default=10)
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://gradecraft")}

# Celery: eager, in-process tasks unless a broker is configured.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers an unacknowledged task (a worker killed mid-task) after this many seconds.
# Evaluation work is cut into chunk tasks of seconds (EVALUATION_CHUNK_SIZE), so minutes
# suffice; a task outliving it is only delivered twice, and every task is idempotent.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300)
}
# Sellers per evaluation chunk task (metrics.runs); measured with bench/evaluate at scale S:
# see README "Benchmarks".
EVALUATION_CHUNK_SIZE = env.int("EVALUATION_CHUNK_SIZE", default=1000)
# Chunk tasks applied at once when a run executes in this process (`manage.py evaluate`, eager
# tasks): threads, each with its own database connection, so that one chunk's queries run while
# another is graded in Python (PostgreSQL only, and never inside a transaction: a thread's
# connection could not see it). 1 applies them one after the other. Measured: bench/README.md.
EVALUATION_IN_PROCESS_THREADS = env.int("EVALUATION_IN_PROCESS_THREADS", default=2)
# Processes that grade a run's chunks beside this one when the run executes in this process
# (`manage.py evaluate`, PostgreSQL, outside a transaction): a chunk is mostly Python, which
# threads run one at a time. The command forks them before its first query; otherwise they are
# spawned when the run starts (metrics.runs.chunks.ChunkProcesses). 0: the threads above.
# Measured on 2 cores (bench/README.md): 1 and 2 alike, both ~1 s faster than threads at S.
EVALUATION_IN_PROCESS_PROCESSES = env.int("EVALUATION_IN_PROCESS_PROCESSES", default=1)
# work_mem of the run's one pass over all orders (PostgreSQL; SET LOCAL in that transaction).
EVALUATION_WORK_MEM = env.str("EVALUATION_WORK_MEM", default="256MB")
# The run's two timings (metrics.runs.lease; docs/architecture.md "A run's life"):
# - the LEASE: a worker holds a run or a chunk for this long and renews it while it works (a
#   third of it apart); a lease that expires (its worker died, its message was lost) is
#   re-queued by the minute sweep. Minutes: the longest step measured (the figures pass at L)
#   lasts seconds.
# - the DEADLINE: a run still open this long after it started is marked failed, and the period
#   can be run again. It must exceed the lease and CELERY_VISIBILITY_TIMEOUT, so that a
#   re-queued or redelivered task can finish first: `manage.py check` says so (metrics.E001).
# The names before issue 23 are still read when the new ones are not set (deprecated;
# `check` warns, metrics.W001): EVALUATION_STALE_AFTER_SECONDS (the lease) and
# EVALUATION_STUCK_AFTER_SECONDS (the deadline); EVALUATION_REQUEUE_PENDING_SECONDS is gone
# (a run no worker claimed waits one lease, like any other).
EVALUATION_DEPRECATED_TIMINGS = sorted(
    name
    for name in (
        "EVALUATION_STALE_AFTER_SECONDS",
        "EVALUATION_REQUEUE_PENDING_SECONDS",
        "EVALUATION_STUCK_AFTER_SECONDS",
    )
    if name in os.environ
)
EVALUATION_LEASE_SECONDS = env.int(
    "EVALUATION_LEASE_SECONDS", default=env.int("EVALUATION_STALE_AFTER_SECONDS", default=120)
)
EVALUATION_DEADLINE_SECONDS = env.int(
    "EVALUATION_DEADLINE_SECONDS", default=env.int("EVALUATION_STUCK_AFTER_SECONDS", default=3600)
)
# Policy previews (POST /api/v1/policy/preview answered 202) are kept this long for their
# clients to read, then deleted by the minute sweep; one still open after
# EVALUATION_DEADLINE_SECONDS is marked failed.
POLICY_PREVIEW_KEEP_DAYS = env.int("POLICY_PREVIEW_KEEP_DAYS", default=7)
# A user's identical draft asked again within this many seconds gets the same preview job
# (a reloaded page queues nothing new); a user may have this many jobs computing at once (429
# past it): one job recomputes a whole period.
POLICY_PREVIEW_FRESH_SECONDS = env.int("POLICY_PREVIEW_FRESH_SECONDS", default=600)
POLICY_PREVIEW_MAX_OPEN_PER_USER = env.int("POLICY_PREVIEW_MAX_OPEN_PER_USER", default=2)
# The month-to-date preview serves stored figures up to this old (the beat refreshes them every
# 10 minutes); older or missing ones are computed for the one seller on demand.
PREVIEW_MAX_AGE_SECONDS = env.int("PREVIEW_MAX_AGE_SECONDS", default=900)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: an address with too many failed authentications is refused (429) before its
        # credentials are looked at (common/throttling.py).
        "common.throttling.RefuseFailingClients",
        "rest_framework.authentication.TokenAuthentication",
        # SPEC §7 API keys (`Authorization: Api-Key <key>`), with scopes: access/.
        "access.authentication.ApiKeyAuthentication",
        # Any other scheme (Bearer ...) is a 401 naming the ones that work.
        "access.authentication.RefuseOtherSchemes",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["common.api.SafeJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "common.api.Pagination",
    "DEFAULT_SCHEMA_CLASS": "common.api_schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "access.throttling.UserOnlyRateThrottle",
        # Each API key its own count, at its own rate (admin) or THROTTLE_API_KEY.
        "access.throttling.ApiKeyRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="60/minute"),
        "user": env.str("THROTTLE_USER", default="6000/minute"),
        "api_key": env.str("THROTTLE_API_KEY", default="6000/minute"),
        # Requests answered 401 (anonymous or a bad token), per client address.
        "auth_failure": env.str("THROTTLE_AUTH_FAILURES", default="30/minute"),
    },
    # X-Forwarded-For is the client's own claim unless proxies are configured (common/net.py).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "EXCEPTION_HANDLER": "common.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "GradeCraft API",
    "DESCRIPTION": "Seller service-level grades: ingestion of orders, messages and reviews; "
    "monthly evaluations; grades, previews and evidence.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Stable enum names for generated clients: an order's status stays ``StatusEnum`` now that
    # appeals have a status too.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "orders.models.OrderStatus",
        "AppealStatusEnum": "metrics.models.AppealStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.api_schema.no_nul_in_request_strings",
        "common.api_schema.closed_request_bodies",
        "common.api_schema.api_key_scopes",
        "common.api_schema.links_to_what_was_written",
    ],
    # The schemes a client authenticates with (common.throttling's gatekeeper is not one).
    "AUTHENTICATION_WHITELIST": [
        "rest_framework.authentication.TokenAuthentication",
        "access.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Swagger UI assets are served from the sidecar package: pages work offline, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="gradecraft@localhost")
# Seconds an SMTP connection may block: an email's claim (notifications.sending) outlasts it.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=30.0)

# The site's public address (https://grades.example.com): sign-in links are built on it, never
# on the Host header of whoever asked for them. Unset: the requesting host (development).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="").rstrip("/")

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips a client's own).
# Trusting the header without such a proxy would let any client claim HTTPS.
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Health checks (a container's, a load balancer's) ask over plain HTTP from inside.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is the domain owner's hard-to-undo choice (SECURE_HSTS_PRELOAD=true), not
        # a default: check --deploy's reminder about it is silenced, every other one stands.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Logs go to stderr (the process manager keeps them). Evaluation runs log each step of their
# life as one JSON object a line (logger metrics.runs.events: event, run, period, status,
# sellers, duration_seconds, level_changes), for log shippers and alerting; LOG_FORMAT=json
# makes every other log line JSON too.
_JSON_FORMATTER = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
    "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": _JSON_FORMATTER},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "json": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {
        "handlers": ["json" if env.str("LOG_FORMAT", default="text") == "json" else "console"],
        "level": env.str("LOG_LEVEL", default="INFO"),
    },
    "loggers": {
        "metrics.runs.events": {"handlers": ["json"], "level": "INFO", "propagate": False},
    },
}

# Notifications (issue 11): seller emails and webhooks (SPEC §7). Emails go in the seller's
# language (notifications.SellerPreference), by default Korean in Seoul's market.
NOTIFICATIONS_DEFAULT_LANGUAGE = env.str(
    "NOTIFICATIONS_DEFAULT_LANGUAGE", default="ko" if TIME_ZONE == "Asia/Seoul" else "en"
)
NOTIFICATIONS_EMAIL_MAX_ATTEMPTS = env.int("NOTIFICATIONS_EMAIL_MAX_ATTEMPTS", default=5)
# A failed email waits base × 2^(n−1) seconds, capped, before the minute sweep sends it again.
NOTIFICATIONS_EMAIL_RETRY_BASE_SECONDS = env.int(
    "NOTIFICATIONS_EMAIL_RETRY_BASE_SECONDS", default=60
)
NOTIFICATIONS_EMAIL_RETRY_MAX_SECONDS = env.int(
    "NOTIFICATIONS_EMAIL_RETRY_MAX_SECONDS", default=3600
)
# "At risk" warnings start on this day of the month: earlier, the month has too little data.
NOTIFICATIONS_AT_RISK_FROM_DAY = env.int("NOTIFICATIONS_AT_RISK_FROM_DAY", default=15)
# Webhook URLs resolving to loopback/private addresses are refused unless this is on (local
# development and tests only: it lets a webhook reach the server's own network).
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)
# The whole of one delivery attempt (resolving, connecting, sending, the answer's headers) is
# cut at this many seconds, however slowly a receiver dribbles its answer.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# Attempts of one delivery, waiting base × 2^(n−1) seconds (capped) between them: with the
# defaults, 12 attempts over about 20 hours.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=12)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=60)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=6 * 3600)
