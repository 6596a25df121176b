"""The state of the shared dependencies a replica needs: database, cache (sessions) and object storage."""
import os

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection


def _db():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache():
    cache.client.ping()


def _storage():
    if not default_storage.bucket.exists(timeout=1):
        raise RuntimeError(f"bucket {settings.GCS_BUCKET} missing")


CHECKS = {"db": _db, "cache": _cache, "storage": _storage}


def report():
    """(healthy, checks): each check is "ok" or the error that failed it."""
    checks = {}
    for dependency, check in CHECKS.items():
        try:
            check()
            checks[dependency] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means the dependency is unusable
            checks[dependency] = f"{type(exc).__name__}: {exc}"[:200]
    if checks["db"] != "ok":
        connection.close()  # reconnect on the next request instead of reusing a broken connection
    return all(v == "ok" for v in checks.values()), checks


def draining():
    return os.path.exists(settings.DRAIN_FLAG)
