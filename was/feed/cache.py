"""A django-redis client that stops asking Redis for a few seconds after it failed.

With Redis down, every cache call would otherwise pay a connect (or DNS) timeout; with IGNORE_EXCEPTIONS
the call then counts as a miss, and cached_db sessions come from MariaDB. The breaker keeps that fallback
fast: one call per process and per REDIS_RETRY_SECONDS finds out whether Redis is back. The Redis
database in REDIS_URL belongs to this cache alone: it is emptied after an outage.
"""
import functools
import logging
import time

from django.conf import settings
from django_redis.client import DefaultClient
from django_redis.exceptions import ConnectionInterrupted
from django_redis.serializers import json as json_serializer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
_down_until = 0.0  # per process: until then, Redis is taken as down without asking


def _guarded(method):
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        global _down_until
        if _down_until:
            if time.monotonic() < _down_until:
                raise ConnectionInterrupted(connection=None)
            # Writes skipped while Redis was away (a logout, say) left stale entries there: drop them all
            # before trusting it again. Sessions are written through to MariaDB, so this costs only misses.
            try:
                DefaultClient.clear(self)
            except ConnectionInterrupted:
                _down_until = time.monotonic() + settings.REDIS_RETRY_SECONDS
                raise
            _down_until = 0.0
            log.warning("Redis reachable again: cache emptied of entries older than the outage")
        try:
            return method(self, *args, **kwargs)
        except ConnectionInterrupted:
            log.warning("Redis unreachable: sessions come from the database until it is back")
            _down_until = time.monotonic() + settings.REDIS_RETRY_SECONDS
            raise

    return call


class JSONSerializer(json_serializer.JSONSerializer):
    """Values as JSON (a Redis compromise cannot run code in the replicas, as a forged pickle would). An entry
    that is not JSON, pickled by a release before this one, reads as a miss: a session then comes from MariaDB
    (cached_db) and is cached anew, as JSON."""

    def loads(self, value):
        try:
            return super().loads(value)
        except ValueError:  # UnicodeDecodeError and JSONDecodeError both
            return None


class CircuitBreakerClient(DefaultClient):
    def ping(self):
        try:
            return self.get_client(write=False).ping()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise ConnectionInterrupted(connection=None) from exc


for _name in ("get", "set", "add", "delete", "delete_many", "get_many", "set_many", "has_key", "touch",
              "incr", "decr", "expire", "ttl", "keys", "clear", "ping"):
    setattr(CircuitBreakerClient, _name, _guarded(getattr(CircuitBreakerClient, _name)))
