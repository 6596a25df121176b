"""The state of the shared dependencies a replica needs: database, cache (sessions) and object storage.

The checks run side by side, so a report takes as long as the slowest check (each bounded by its own
timeout: DB connect and DNS 1 s, Redis 0.5 s, storage 1 s), not their sum: the balancer's probe waits 2 s.
"""
import os
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection


def _db():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        connection.close()  # this thread reconnects next time instead of reusing a broken connection
        raise


def _cache():
    cache.client.ping()


def _storage():
    if not default_storage.bucket.exists(timeout=1):
        raise RuntimeError(f"bucket {settings.GCS_BUCKET} missing")


CHECKS = {"db": _db, "cache": _cache, "storage": _storage}
_pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="healthz")


def _outcome(check):
    try:
        check()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means the dependency is unusable
        return f"{type(exc).__name__}: {exc}"[:200]


def report():
    """(healthy, checks): each check is "ok" or the error that failed it."""
    futures = {dependency: _pool.submit(_outcome, check) for dependency, check in CHECKS.items()}
    checks = {dependency: future.result() for dependency, future in futures.items()}
    return all(v == "ok" for v in checks.values()), checks


def draining():
    return os.path.exists(settings.DRAIN_FLAG)
