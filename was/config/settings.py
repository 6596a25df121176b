"""Settings for every replica, all read from the environment (see .env.example at the project root)."""
from pathlib import Path

from config import env

BASE_DIR = Path(__file__).resolve().parent.parent

# Identical on every replica: sessions, CSRF tokens and signatures must validate wherever a request lands.
# The key file holds the current key, then the previous ones, still accepted (make rotate-secrets); a
# replica follows changes of the file as it runs (feed/secret_keys.py).
SECRET_KEY, *SECRET_KEY_FALLBACKS = env.words("DJANGO_SECRET_KEY")
DEBUG = env.boolean("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env.strings("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.strings("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "storages",
    "feed",
]

MIDDLEWARE = [
    # First: answers the balancer's probes before Host validation (they come addressed to the replica's IP).
    "feed.middleware.HealthCheckMiddleware",
    "feed.middleware.ServedByMiddleware",
    # Before any work (sessions, the database): a request that waited too long is answered at once.
    "feed.middleware.QueueDeadlineMiddleware",
    # Before anything signs or checks with the key: the key file as it is now (make rotate-secrets).
    "feed.secret_keys.SecretKeyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication (limits per user) and CSRF (a forged POST is refused before it counts).
    "feed.limits.RateLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "feed.context_processors.served_by",
            ],
        },
    },
]

# MariaDB, shared by every replica; its password file is read for every new connection (feed/mysql/base.py:
# make rotate-secrets changes it under a running stack). Health-checked persistent connections survive a
# database restart.
# A hung MariaDB (connections accepted, nothing answered) costs a request the health check's ping (read
# timeout) plus a reconnect (connect timeout), then the 503 page: 2 s with the defaults. The client library
# (MariaDB Connector/C) does not retry a timed-out read. A query may run no longer than the read timeout.
DATABASES = {
    "default": {
        "ENGINE": "feed.mysql",
        "HOST": env.string("DB_HOST", "db"),
        "PORT": env.integer("DB_PORT", 3306),
        "NAME": env.string("DB_NAME", "django"),
        "USER": env.string("DB_USER", "django"),
        "PASSWORD": env.string("DB_PASSWORD"),
        "CONN_MAX_AGE": env.integer("DB_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "charset": "utf8mb4",
            "connect_timeout": env.integer("DB_CONNECT_TIMEOUT", 1),
            # 0: no timeout (what the one-shot init service uses, so that a long migration may finish).
            "read_timeout": env.integer("DB_READ_TIMEOUT", 1),
            "write_timeout": env.integer("DB_WRITE_TIMEOUT", 1),
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis is the shared session store; sessions are written through to MariaDB (cached_db), and a Redis
# outage only costs cache misses (django-redis IGNORE_EXCEPTIONS), never a logged-out user or a 500.
# Redis wants a password (REDIS_PASSWORD_FILE); values are stored as JSON, never pickled, and an entry that is
# not JSON (pickled by an earlier release) reads as a miss (feed/cache.py).
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": env.string("REDIS_URL", "redis://redis:6379/0"),
        "OPTIONS": {
            "PASSWORD": env.string("REDIS_PASSWORD", "") or None,
            "SERIALIZER": "feed.cache.JSONSerializer",
            "CLIENT_CLASS": "feed.cache.CircuitBreakerClient",
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
            "IGNORE_EXCEPTIONS": True,
        },
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# feed.cache logs when Redis goes away and comes back; no traceback per ignored call.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False
REDIS_RETRY_SECONDS = env.number("REDIS_RETRY_SECONDS", 5)

# Uploaded images and static files live in one bucket (media/ and static/), never on a replica's disk.
GCS_BUCKET = env.string("GCS_BUCKET", "django-clustering")
GCS_PROJECT_ID = env.string("GCS_PROJECT_ID", "django-clustering")
# Empty: objects are served by this site at /media/... and /static/... (Apache proxies them to the
# bucket). Otherwise the public base URL of the bucket, e.g. https://storage.googleapis.com/<bucket>.
GCS_PUBLIC_URL = env.string("GCS_PUBLIC_URL", "")
GCS_SIGNED_URLS = env.boolean("GCS_SIGNED_URLS", False)
_gcs = {
    "bucket_name": GCS_BUCKET,
    "project_id": GCS_PROJECT_ID,
    "file_overwrite": False,
    "querystring_auth": GCS_SIGNED_URLS,
    "custom_endpoint": GCS_PUBLIC_URL or None,
}
_gcs_backend = "feed.storage.SameOriginGoogleCloudStorage" if not (GCS_PUBLIC_URL or GCS_SIGNED_URLS) else "storages.backends.gcloud.GoogleCloudStorage"
STORAGES = {
    "default": {"BACKEND": _gcs_backend, "OPTIONS": {**_gcs, "location": "media"}},
    "staticfiles": {"BACKEND": _gcs_backend, "OPTIONS": {**_gcs, "location": "static", "file_overwrite": True}},
}
STATIC_URL = "/static/"
MEDIA_URL = "/media/"

# TLS terminates at Apache, which says so in X-Forwarded-Proto (and overwrites whatever a client sent).
HTTPS = env.boolean("DJANGO_HTTPS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.integer("DJANGO_HSTS_SECONDS", 3600) if HTTPS else 0
# Both only mean something once the site is on HTTPS; preload takes effect only if you submit the domain.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env.boolean("DJANGO_HSTS_PRELOAD", True)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Largest accepted image. Apache refuses a larger body (plus 64 KiB of multipart envelope) with 413 before a
# replica sees it: APACHE_MAX_BODY_BYTES in apache/conf/site.conf, which apache/entrypoint derives from this variable.
UPLOAD_MAX_BYTES = env.integer("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
# An image's pixels over all its frames, its width and height, its frames (docs/uploads.md): refused from the
# header, before any pixel is decoded. A decoded pixel takes 3 or 4 bytes: 40 M pixels are 120-160 MB.
UPLOAD_MAX_PIXELS = env.integer("UPLOAD_MAX_PIXELS", 40_000_000)
UPLOAD_MAX_SIDE = env.integer("UPLOAD_MAX_SIDE", 12_000)
UPLOAD_MAX_FRAMES = env.integer("UPLOAD_MAX_FRAMES", 100)
# Images a gunicorn process decodes at once (a replica: GUNICORN_WORKERS times this), whatever its threads; an
# upload that waits longer than UPLOAD_DECODE_WAIT_SECONDS for its turn gets a 503 to retry.
UPLOAD_DECODES_PER_PROCESS = env.integer("UPLOAD_DECODES_PER_PROCESS", 1)
UPLOAD_DECODE_WAIT_SECONDS = env.number("UPLOAD_DECODE_WAIT_SECONDS", 10)
# Bytes of images one user may keep (the sum of their posts' images); a post past it is refused with 403.
UPLOAD_QUOTA_BYTES = env.integer("UPLOAD_QUOTA_BYTES", 256 * 1024 * 1024)

# Abuse limits (feed/limits.py), counted in Redis so that they hold across replicas: every POST counts,
# accepted or refused; past a limit, 429 with Retry-After. "COUNT/PERIOD" (10/h, 30/15m) or "off".
# Per client address (as Apache saw it), per signed-in user, and for log-ins per username (failures only).
RATE_LIMITS = {
    "signup": {"address": env.rate("RATE_SIGNUP_ADDRESS", "10/h")},
    "guest": {"address": env.rate("RATE_GUEST_ADDRESS", "10/h")},
    "login": {"address": env.rate("RATE_LOGIN_ADDRESS", "60/h"), "username": env.rate("RATE_LOGIN_USERNAME", "20/h")},
    "post": {"address": env.rate("RATE_POST_ADDRESS", "60/h"), "user": env.rate("RATE_POST_USER", "30/h")},
    "comment": {"address": env.rate("RATE_COMMENT_ADDRESS", "240/h"), "user": env.rate("RATE_COMMENT_USER", "120/h")},
}
# Client addresses or networks never limited (monitoring, say): "203.0.113.7,10.0.0.0/8".
RATE_LIMIT_EXEMPT = env.networks("RATE_LIMIT_EXEMPT", [])

# Where a replica tells Apache that an image is gone (a deleted post), so that its cache drops its copy: every
# address of this host is told (apache/conf/internal.conf). Empty: no Apache caches images (GCS_PUBLIC_URL).
MEDIA_CACHE_PURGE_URL = env.string("MEDIA_CACHE_PURGE_URL", "http://apache:8082")

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

# Set while the replica drains before a graceful stop (see was/start): /healthz then reports draining.
DRAIN_FLAG = env.string("DRAIN_FLAG", "/tmp/draining")
# A request without a body that waited longer than this for a thread gets a 503 (feed.middleware).
REQUEST_QUEUE_SECONDS = env.number("REQUEST_QUEUE_SECONDS", 10)
# /bench/trivial and /bench/io, for `make bench` (bench/run.py) only.
BENCH_VIEWS = env.boolean("DJANGO_BENCH_VIEWS", False)
# What this replica runs (was/Dockerfile): reported by /healthz, /livez and the X-App-Version header.
APP_VERSION = env.string("APP_VERSION", "dev")
# Overrides the replica name derived from its DNS name (see feed/replica.py).
REPLICA_NAME = env.string("REPLICA_NAME", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.string("DJANGO_LOG_LEVEL", "INFO")},
}
