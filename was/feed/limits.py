"""Abuse limits shared by every replica: counts in fixed windows, kept in Redis (Django's cache).

A POST to sign up, continue as a guest, log in, post or comment (ACTIONS) counts, accepted or refused, per
client address and, once signed in, per user; failed log-ins also count per username, so that passwords cannot
be tried on one account from many addresses. Past a limit (settings.RATE_LIMITS) the request gets a 429 page
with Retry-After, the seconds until its window ends, whichever replica it reaches.

The client address is the one Apache saw: X-Real-IP, which Apache sets from the connection and a client cannot
(apache/conf/site.conf); never X-Forwarded-For, which a client can start. An IPv6 address counts as its /64,
which one host usually holds whole.

Redis unreachable: nothing is limited (fail open), without waiting (feed/cache.py's breaker answers at once).
The limits brake abuse; they are not what keeps accounts safe (passwords are hashed, slowly), and refusing
every sign-up, log-in and post while Redis is away would turn its outage into the site's. When Redis comes
back, the breaker empties it: every count starts again.
"""
import hashlib
import ipaddress
import math
import time

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpResponse
from django.template.loader import render_to_string

# The URL names whose POSTs count, and the action (settings.RATE_LIMITS) they count for.
ACTIONS = {"signup": "signup", "guest": "guest", "login": "login", "admin:login": "login", "new_post": "post",
           "comment": "comment"}
# What the 429 page says there were too many of.
WHAT = {"signup": "sign-ups", "guest": "guest accounts", "login": "log-in attempts", "post": "posts",
        "comment": "comments"}


def client_address(request):
    """The address Apache saw the request come from (the whole /64 for IPv6)."""
    address = request.headers.get("X-Real-IP") or request.META.get("REMOTE_ADDR", "")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def exempt(address):
    """True if settings.RATE_LIMIT_EXEMPT (addresses or networks) holds the address."""
    try:
        ip = ipaddress.ip_network(address, strict=False)
    except ValueError:
        return False
    return any(ip.version == net.version and ip.subnet_of(net) for net in settings.RATE_LIMIT_EXEMPT)


def _window(action, scope, ident, seconds, now):
    """The key counting this window (they start at multiples of `seconds` since the epoch) and its seconds left."""
    return f"limit:{action}:{scope}:{ident}:{seconds}:{int(now // seconds)}", seconds - now % seconds


def hit(action, scope, ident, rate, now=None):
    """Counts one more; returns the seconds until the window ends if that is past the limit, else None (also when
    Redis is unreachable)."""
    count, seconds = rate
    key, left = _window(action, scope, ident, seconds, time.time() if now is None else now)
    cache.add(key, 0, timeout=math.ceil(left) + 1)
    try:
        total = cache.incr(key)
    except ValueError:  # it expired between the two calls: its window is over
        return None
    return left if total is not None and total > count else None


def reached(action, scope, ident, rate, now=None):
    """Like hit, without counting: the seconds left if the count is already at the limit, else None."""
    count, seconds = rate
    key, left = _window(action, scope, ident, seconds, time.time() if now is None else now)
    return left if (cache.get(key) or 0) >= count else None


def username_key(username):
    # Any text a client typed, of any length: a fixed-size key.
    return hashlib.sha256(username.encode()).hexdigest()[:32]


def too_many(action, wait):
    seconds = max(1, math.ceil(wait))
    later = f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    response = HttpResponse(render_to_string("429.html", {"what": WHAT[action], "later": later}), status=429)
    response["Retry-After"] = str(seconds)
    return response


class RateLimitMiddleware:
    """Counts the POSTs of ACTIONS and answers 429 past a limit, before the view does any work."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        action = ACTIONS.get(request.resolver_match.view_name)
        address = client_address(request)
        if request.method != "POST" or action is None or exempt(address):
            return None
        rates = settings.RATE_LIMITS[action]
        scopes = {"address": address}
        if request.user.is_authenticated:
            scopes["user"] = request.user.pk
        waits = [hit(action, scope, ident, rates[scope]) for scope, ident in scopes.items() if rates.get(scope)]
        if rates.get("username"):
            waits.append(reached(action, "username", username_key(request.POST.get("username", "")), rates["username"]))
        waits = [wait for wait in waits if wait]
        return too_many(action, max(waits)) if waits else None


@receiver(user_login_failed)
def count_failed_login(sender, credentials, request=None, **kwargs):
    """Every failed log-in (the site's or the admin's) counts for the username tried."""
    rate = settings.RATE_LIMITS["login"].get("username")
    if rate and request is not None and not exempt(client_address(request)):
        hit("login", "username", username_key(str(credentials.get("username", ""))), rate)
