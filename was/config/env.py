"""Typed readers for settings from the environment. Every secret may come from VAR or from the file VAR_FILE."""
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
