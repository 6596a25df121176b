"""Typed readers for settings from the environment. Every secret may come from VAR or from the file VAR_FILE."""
import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured

_UNSET = object()


def string(name, default=_UNSET):
    path = os.environ.get(f"{name}_FILE")
    if path:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    if name in os.environ:
        return os.environ[name]
    if default is _UNSET:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE")
    return default


def boolean(name, default):
    value = string(name, str(default)).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean, not {value!r}")


def _parsed(name, default, parse, kind):
    value = string(name, str(default))
    try:
        return parse(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {kind}, not {value!r}") from None


def integer(name, default):
    return _parsed(name, default, int, "an integer")


def number(name, default):
    return _parsed(name, default, float, "a number")


def strings(name, default):
    """A comma-separated list."""
    return [item.strip() for item in string(name, ",".join(default)).split(",") if item.strip()]


def words(name):
    """Whitespace-separated values, at least one (a secret file may hold several, one a line)."""
    values = string(name).split()
    if not values:
        raise ImproperlyConfigured(f"{name} is empty")
    return values


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate(name, default):
    """A rate limit, "COUNT/PERIOD": "10/h", "30/15m", "5/90s", "100/d" (a number of s, m, h or d; the number
    may be left out). Returns (count, seconds), or None for "off"."""
    value = string(name, default).strip().lower()
    if value == "off":
        return None
    count, _, period = value.partition("/")
    number, unit = period[:-1], period[-1:]
    if count.isdigit() and int(count) > 0 and unit in _PERIODS and (number == "" or number.isdigit()) \
            and int(number or 1) > 0:
        return int(count), int(number or 1) * _PERIODS[unit]
    raise ImproperlyConfigured(f"{name} must be a rate such as 10/h or 30/15m (count/period in s, m, h or d), "
                               f"or off, not {value!r}")


def networks(name, default):
    """A comma-separated list of IP addresses or networks ("203.0.113.7,10.0.0.0/8")."""
    try:
        return [ipaddress.ip_network(item, strict=False) for item in strings(name, default)]
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must list IP addresses or networks: {error}") from None
