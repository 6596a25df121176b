"""Django's secret key, followed while the replica runs: `make rotate-secrets` changes the key file in place.

The file (DJANGO_SECRET_KEY_FILE) holds the current key on its first line and the previous ones after it
(SECRET_KEY_FALLBACKS: sessions, signed cookies and tokens made with them stay valid). A rotation writes
"old, new" (the new key accepted everywhere), then "new, old" (the new key used): every replica picks each
change up before its next request, so nobody is logged out.
"""
import os
import threading

from django.conf import settings

_lock = threading.Lock()
_seen = None  # (inode, size, mtime) of the file last read, per process


def refresh():
    """Re-reads the key file when it changed since this process last read it."""
    global _seen
    path = os.environ.get("DJANGO_SECRET_KEY_FILE")
    if not path:
        return
    stat = os.stat(path)
    seen = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if seen == _seen:
        return
    with _lock:
        with open(path, encoding="utf-8") as f:
            keys = f.read().split()
        if not keys:  # caught mid-write: read again at the next request
            return
        key, fallbacks = keys[0], keys[1:]
        # Every key, old or new, is accepted at every moment of the switch, whatever a request reads when.
        settings.SECRET_KEY_FALLBACKS = list(dict.fromkeys([*fallbacks, key, settings.SECRET_KEY]))
        settings.SECRET_KEY = key
        settings.SECRET_KEY_FALLBACKS = fallbacks
        _seen = seen


class SecretKeyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refresh()
        return self.get_response(request)
