"""The state of the shared dependencies a replica needs: database, cache (sessions) and object storage.

The checks run side by side (DB connect, read and DNS 1 s each, Redis 0.5 s, storage 1 s; a report waits
1.5 s at most), and requests arriving together share one report of at most 1 s of age. It is for people
and monitoring (/healthz): whether a replica is in the balancer is the probe port's call (probe.py), and
shared dependencies play no part in it.
"""
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait

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
# A report never takes longer: a check still running then counts as failed (it finishes in the background).
DEADLINE_SECONDS = 1.5
_pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="healthz")


def _outcome(check):
    try:
        check()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means the dependency is unusable
        return f"{type(exc).__name__}: {exc}"[:200]


_lock = threading.Lock()
_last = (0.0, None)  # (when, report)
_running = {}  # {dependency: the Future of its latest check}


def report():
    """(healthy, checks): each check is "ok" or the error that failed it."""
    global _last
    asked = time.monotonic()
    with _lock:
        when, last = _last
        # Fresh enough: under 1 s old, or made while this caller waited for the lock.
        if last is None or when < asked - 1:
            # A check still running from an earlier report is waited on again, not started anew: a hung
            # dependency holds one of the pool's threads, never all of them.
            futures = {dependency: _running[dependency] if dependency in _running and not _running[dependency].done()
                       else _pool.submit(_outcome, check) for dependency, check in CHECKS.items()}
            _running.update(futures)
            wait(futures.values(), timeout=DEADLINE_SECONDS)
            checks = {dependency: future.result() if future.done() else f"no answer within {DEADLINE_SECONDS} s"
                      for dependency, future in futures.items()}
            _last = (time.monotonic(), (all(v == "ok" for v in checks.values()), checks))
        return _last[1]


def draining():
    return os.path.exists(settings.DRAIN_FLAG)
