"""Django settings for Flywheel, 12-factor style: everything that differs between
deployments comes from the environment.

Connection settings, in order of precedence:
1. ``DATABASE_URL`` / ``REDIS_URL`` in the environment (production, docker-compose, tests);
2. ``var/local.env``, written by ``python -m flywheel.local`` (``make demo``) after it has
   started embedded PostgreSQL and embedded Valkey under ``./var/``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FLYWHEEL_VAR_DIR", BASE_DIR / "var"))
LOCAL_ENV_FILE = VAR_DIR / "local.env"


def _read_env_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


_LOCAL = _read_env_file(LOCAL_ENV_FILE)


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, _LOCAL.get(name, default))


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return default if value is None else int(value)


DEBUG = env_bool("FLYWHEEL_DEBUG", default=False)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or env_bool("FLYWHEEL_ALLOW_INSECURE_KEY")):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (any long random string), "
            "or run locally with `make demo`, which generates one under var/."
        )
    SECRET_KEY = "insecure-local-development-key-never-use-in-production"

ALLOWED_HOSTS = [h.strip() for h in (env("ALLOWED_HOSTS", "localhost,127.0.0.1") or "").split(",")]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in (env("CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "flywheel.accounts",  # API tokens, credential revocation, the users' admin (issue 18)
    "annotation",
    "training",
    "loop",
    "webhooks",
    "tinyworld",  # demo and test material: its management commands (DESIGN.md, "The tiny world")
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "flywheel.middleware.RequestSizeLimitMiddleware",
    # PostgreSQL down or restarting: a JSON 503 with Retry-After, not a 500 page.
    "flywheel.availability.DatabaseUnavailableMiddleware",
    "flywheel.security_headers.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the 429 answer.
    "axes.middleware.AxesMiddleware",
    # A path id above PostgreSQL's bigint: 404 before the view's lookup overflows.
    "flywheel.middleware.PathIdRangeMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Refuses every sign-in of a locked-out username + address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "flywheel.urls"
WSGI_APPLICATION = "flywheel.wsgi.application"
ASGI_APPLICATION = "flywheel.asgi.application"

FRONTEND_DIST = BASE_DIR / "frontend" / "dist"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "flywheel" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = env("DATABASE_URL")
if not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set and no embedded services are running. "
        "Run `make demo` (starts embedded PostgreSQL + Valkey under ./var/) or set DATABASE_URL, "
        "e.g. postgres://postgres@127.0.0.1:5432/flywheel."
    )
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("FLYWHEEL_CONN_MAX_AGE", 60)
    )
}
# No health check (a ``SELECT 1`` round trip at the start of every request that reuses a
# connection, issue #7). A connection broken by a PostgreSQL restart fails its first query
# instead: that request answers 503 (``flywheel.availability``), Django closes the connection at
# the end of the request, and the next request opens a new one
# (tests/faults/test_postgres_restart.py).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
# The hot path's statements are prepared once per connection (flywheel/sql.py); turn off behind
# a pooler that does not keep server sessions (PgBouncer's transaction mode).
FLYWHEEL_PREPARED_STATEMENTS = env_bool("FLYWHEEL_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("FLYWHEEL_CACHE_PREFIX", "flywheel"),
        # The ranking submit reads the webhook subscriptions here: a Redis that stops answering
        # must cost it seconds, not hang it (webhooks/services.py falls back to the database).
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [p for p in [FRONTEND_DIST] if p.exists()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "/admin/login/"

# Request-size limits: bulk imports are parsed in memory, so they are bounded. A body whose
# Content-Length is over DATA_UPLOAD_MAX_MEMORY_SIZE gets a 413 before anything reads it
# (flywheel.middleware.RequestSizeLimitMiddleware: DRF's parsers read the stream directly, so
# Django's own check would not apply to JSON bodies). Uploaded files above
# FILE_UPLOAD_MAX_MEMORY_SIZE are spooled to disk rather than held in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("FLYWHEEL_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = min(DATA_UPLOAD_MAX_MEMORY_SIZE, 5 * 1024 * 1024)
FLYWHEEL_MAX_IMPORT_ROWS = env_int("FLYWHEEL_MAX_IMPORT_ROWS", 100_000)

# next-task ranks by fullness a window of this many of the oldest open sets
# (annotation.services.assignments): well above the calls the web tier runs at once
# (FLYWHEEL_WEB_WORKERS × FLYWHEEL_WEB_THREADS, gunicorn.conf.py), which SKIP LOCKED spreads over
# it. Each set in it costs PostgreSQL a few microseconds per call (issue #7: 100 sets took 0.3 ms
# more than 32), but a narrower window crowds concurrent calls onto fewer sets: with 32, the
# load bench's paced submit p99 was 28–72 ms in alternating runs against 19–31 ms with 100.
FLYWHEEL_NEXT_TASK_WINDOW = env_int(
    "FLYWHEEL_NEXT_TASK_WINDOW",
    max(100, 4 * env_int("FLYWHEEL_WEB_WORKERS", 2) * env_int("FLYWHEEL_WEB_THREADS", 4)),
)
FLYWHEEL_MODELS_DIR = Path(env("FLYWHEEL_MODELS_DIR", str(VAR_DIR / "models")) or "")
# The directories a model may be registered from (training.services.registry, issue 18): the
# models directory, the tiny world (built under VAR_DIR by seed_demo and the tests) and any more
# named in FLYWHEEL_MODEL_ROOTS, separated by os.pathsep (":").
FLYWHEEL_MODEL_ROOTS = [
    FLYWHEEL_MODELS_DIR,
    VAR_DIR / "tinyworld",
    *(Path(p) for p in (env("FLYWHEEL_MODEL_ROOTS", "") or "").split(os.pathsep) if p),
]
# A loop's oracle (`Loop.oracle`) → the dotted path of a function
# `(prompts, samples per prompt) -> {"trait_rate", "well_formed_rate", "relevance_rate"}` that
# scores a policy's evaluation samples by a rule no policy can fake. The product names only the
# path; it never imports the tiny world (loop.services.evaluation resolves it when a round is
# evaluated).
FLYWHEEL_ORACLES = {
    "tinyworld": "tinyworld.oracle.trait_rates",
    "tinyworld-topic": "tinyworld.oracle.topic_trait_rates",
    "tinyworld-template": "tinyworld.oracle.template_trait_rates",
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "flywheel.authentication.TokenWithRoleAuthentication",
        # DRF's SessionAuthentication enforces CSRF for unsafe methods.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON Lines is accepted by the bulk-import views only (annotation.apis.projects).
    "DEFAULT_PARSER_CLASSES": [
        "annotation.parsers.StrictJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "flywheel.negotiation.ContentNegotiation",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "flywheel.pagination.CappedLimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "flywheel.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Flywheel API",
    "DESCRIPTION": (
        "Collect K-way rankings of model responses, export TRL-ready preference datasets, "
        "and drive reward-model / policy training rounds."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI assets are served from this server, not a CDN (offline installs work).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name ("state", "status") get a name each in the schema.
    "ENUM_NAME_OVERRIDES": {
        "CandidateSetStateEnum": "annotation.enums.CandidateSetState",
        "RoleEnum": "annotation.enums.Role",
        "ProjectRoleEnum": "annotation.enums.ProjectRole",
        "AssignmentStateEnum": "annotation.enums.AssignmentState",
        "ReviewStateEnum": "annotation.enums.ReviewState",
        "ReviewActionEnum": "annotation.enums.ReviewAction",
        "JobStatusEnum": "training.models.JobStatus",
        "RoundStatusEnum": "loop.models.RoundStatus",
        "ModelKindEnum": "training.models.ModelKind",
        "WebhookEventTypeEnum": "webhooks.enums.EventType",
        "DeliveryStatusEnum": "webhooks.enums.DeliveryStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "flywheel.openapi.document_errors",
    ],
}

# Celery: see DESIGN.md "Runtime". A job is acknowledged only after it finished, a job whose
# worker died is redelivered, and each worker holds one job at a time.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_NAMES = ("default", "generation", "gpu")
# visibility_timeout: longer than the longest training job, or Redis redelivers a job still
# running. The socket timeouts bound a dispatch to a broker that stops answering without
# closing the connection (host down, network partition): kombu would wait for ever, and with it
# the request that dispatched (tests/faults/test_redis_outage.py). A refused connection (Redis
# stopped) fails in 0.6 s: kombu's 3 publish retries.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("FLYWHEEL_BROKER_VISIBILITY_TIMEOUT", 48 * 3600),
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_RESULT_EXPIRES = 7 * 24 * 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TRACK_STARTED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    name: {"task": task, "schedule": seconds}
    for name, task, seconds in [
        ("release-expired-leases", "annotation.tasks.release_expired_leases", 60.0),
        ("recover-stalled-work", "training.tasks.recover_stalled_work", 30.0),
        ("loop-tick", "loop.tasks.tick", float(env("FLYWHEEL_LOOP_TICK_SECONDS", "15") or 15)),
        ("webhook-sweep", "webhooks.tasks.sweep", 60.0),
    ]
}
CELERY_TASK_ROUTES = {}

# Webhooks (issue 18; webhooks/services.py). Delivery to loopback, private and link-local
# addresses is refused unless FLYWHEEL_WEBHOOKS_ALLOW_PRIVATE is set (tests, same-host receivers).
FLYWHEEL_WEBHOOKS_ALLOW_PRIVATE = env_bool("FLYWHEEL_WEBHOOKS_ALLOW_PRIVATE")
FLYWHEEL_WEBHOOK_MAX_ATTEMPTS = env_int("FLYWHEEL_WEBHOOK_MAX_ATTEMPTS", 8)
# The first retry's delay; each next one doubles (30 s … 64 min, ≈ 2 h in all with 8 attempts).
FLYWHEEL_WEBHOOK_RETRY_SECONDS = float(env("FLYWHEEL_WEBHOOK_RETRY_SECONDS", "30") or 30)
FLYWHEEL_WEBHOOK_TIMEOUT_SECONDS = float(env("FLYWHEEL_WEBHOOK_TIMEOUT_SECONDS", "10") or 10)
# The sweep queues pending deliveries due longer ago than this (their task was lost).
FLYWHEEL_WEBHOOK_SWEEP_OVERDUE_SECONDS = 60.0

# The job engine (training/engine; README's configuration table says what each does).
FLYWHEEL_STALL_SECONDS = env_int("FLYWHEEL_STALL_SECONDS", 120)
FLYWHEEL_MAX_ATTEMPTS = env_int("FLYWHEEL_MAX_ATTEMPTS", 3)
FLYWHEEL_REDISPATCH_QUEUED_SECONDS = env_int("FLYWHEEL_REDISPATCH_QUEUED_SECONDS", 60)
FLYWHEEL_WORKER_REPORT_SECONDS = env_int("FLYWHEEL_WORKER_REPORT_SECONDS", 60)
FLYWHEEL_DEFAULT_EXECUTORS = {
    "training_run": env("FLYWHEEL_TRAINING_EXECUTOR", "local"),
    "generation_job": env("FLYWHEEL_GENERATION_EXECUTOR", "inline"),
    "round_step": "inline",  # the loop's evaluation: in the worker, whose imports are warm
}
FLYWHEEL_EXECUTORS = [m for m in env("FLYWHEEL_EXECUTORS", "").split(",") if m]
FLYWHEEL_ALGORITHMS = [m for m in env("FLYWHEEL_ALGORITHMS", "").split(",") if m]
FLYWHEEL_WARM_START = env_bool("FLYWHEEL_WARM_START", default=True)
FLYWHEEL_WARM_AT_BOOT = env_bool("FLYWHEEL_WARM_AT_BOOT", default=True)
# "module:name" reads the name too: transformers and TRL load their parts on first access.
FLYWHEEL_WARM_IMPORTS = ["torch", "datasets", "accelerate", "training.algorithms.ppo"]
FLYWHEEL_WARM_IMPORTS += [f"transformers:{name}" for name in ("AutoModel", "Trainer")]
FLYWHEEL_WARM_IMPORTS += [
    f"trl:{k}Trainer" for k in ("SFT", "Reward", "DPO", "KTO", "GRPO", "RLOO")
]
FLYWHEEL_TORCH_THREADS = env_int("FLYWHEEL_TORCH_THREADS", 0)
FLYWHEEL_GPU_GENERATION_BYTES = env_int("FLYWHEEL_GPU_GENERATION_BYTES", 2 * 1024**3)
# The ray executor (training/engine/executors/ray.py): listed when a cluster is named, so
# `executor: "ray"` on a run or generation job picks it. Address: the head's host:port when this
# worker is a Ray node, ray://head:10001 (Ray Client) when it is not. Resources: one job
# process's (one TorchTrainer worker's when a run has processes: N).
FLYWHEEL_RAY_ADDRESS = env("FLYWHEEL_RAY_ADDRESS", "")
FLYWHEEL_RAY_RESOURCES = {  # e.g. CPU=8,GPU=1
    name: float(amount)
    for name, _, amount in (
        item.partition("=") for item in (env("FLYWHEEL_RAY_RESOURCES", "") or "CPU=1").split(",")
    )
}
if FLYWHEEL_RAY_ADDRESS:
    FLYWHEEL_EXECUTORS.append("training.engine.executors.ray")

# Security headers; production turns on the HTTPS-only ones via env (FLYWHEEL_HTTPS=1 behind a
# TLS-terminating proxy that sets X-Forwarded-Proto, plus FLYWHEEL_HSTS_SECONDS). The test
# tests/security/test_headers.py runs `manage.py check --deploy` with such an environment.
CSRF_FAILURE_VIEW = "flywheel.errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the browser app reads it to send X-CSRFToken
SECURE_SSL_REDIRECT = env_bool("FLYWHEEL_HTTPS", default=False)
SESSION_COOKIE_SECURE = SECURE_SSL_REDIRECT
CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT
SECURE_HSTS_SECONDS = env_int("FLYWHEEL_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("FLYWHEEL_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("FLYWHEEL_HSTS_PRELOAD", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_SSL_REDIRECT else None

# Content-Security-Policy (django-csp): scripts, styles and everything else from this origin
# only, so text that slips through as markup cannot run script or call out. The browser app
# is a Vite build with no inline script; Swagger UI is served in its split form (init script
# as a file) and the Django admin has no inline script either. The docs page alone keeps its
# one inline <style> block (flywheel/urls.py).
_SELF_ONLY = ("default-src", "script-src", "style-src", "font-src", "connect-src", "base-uri")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {name: ["'self'"] for name in (*_SELF_ONLY, "form-action")}
    | {"img-src": ["'self'", "data:"], "object-src": ["'none'"], "frame-ancestors": ["'none'"]}
}

# API tokens (flywheel.accounts, issue 18): a named token expires after FLYWHEEL_API_TOKEN_DAYS
# unless its owner picks another lifetime, at most FLYWHEEL_API_TOKEN_MAX_DAYS; the token that
# POST /api/v1/auth/token/ issues for a password sign-in lives FLYWHEEL_SIGN_IN_TOKEN_DAYS, and
# only the newest FLYWHEEL_SIGN_IN_TOKENS_KEPT of those are kept per user.
FLYWHEEL_API_TOKEN_DAYS = env_int("FLYWHEEL_API_TOKEN_DAYS", 90)
FLYWHEEL_API_TOKEN_MAX_DAYS = env_int("FLYWHEEL_API_TOKEN_MAX_DAYS", 365)
FLYWHEEL_SIGN_IN_TOKEN_DAYS = env_int("FLYWHEEL_SIGN_IN_TOKEN_DAYS", 30)
FLYWHEEL_SIGN_IN_TOKENS_KEPT = env_int("FLYWHEEL_SIGN_IN_TOKENS_KEPT", 20)
FLYWHEEL_API_TOKENS_PER_USER = env_int("FLYWHEEL_API_TOKENS_PER_USER", 50)

# Sign-in rate limiting (django-axes) on the session login, the token endpoint and the admin
# login: after FLYWHEEL_LOGIN_FAILURE_LIMIT failed attempts for one username from one address,
# that pair is refused (429, flywheel.errors.sign_in_locked_out) for the cool-off period. Keyed
# on the pair, not the address alone, so one annotator's typos never lock out an office that
# shares a NAT address. Attempts are rows in the database (rolled back with each test).
AXES_FAILURE_LIMIT = env_int("FLYWHEEL_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("FLYWHEEL_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "flywheel.errors.sign_in_locked_out"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# How many reverse proxies stand in front of Flywheel; the client's address is then read from
# X-Forwarded-For as they set it (flywheel/client_ip.py). 0: the header is ignored.
FLYWHEEL_TRUSTED_PROXIES = env_int("FLYWHEEL_TRUSTED_PROXIES", 0)
AXES_CLIENT_IP_CALLABLE = "flywheel.client_ip.client_ip"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("FLYWHEEL_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},  # one INFO line per request of an API client
        "axes": {"level": "WARNING"},  # lockouts are warnings; every sign-in is not news
    },
}
