"""The unit tests' settings (`make check`): config/settings.py, read from the environment as on a replica,
with SQLite, a local-memory cache and in-memory storage in place of MariaDB, Redis and the bucket."""
import ipaddress
import os

# A replica gets these two as secret files; the unit tests need only some value.
os.environ.setdefault("DJANGO_SECRET_KEY", "unit-tests-only")
os.environ.setdefault("DB_PASSWORD", "unit-tests-only")

from config.settings import *  # noqa: E402, F403

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
}
# No Apache caches images here; tests that purge point it at a server of their own.
MEDIA_CACHE_PURGE_URL = ""
# The test client's address: other tests never meet the abuse limits (feed/tests/test_limits.py sets its own).
RATE_LIMIT_EXEMPT = [ipaddress.ip_network("127.0.0.1")]
