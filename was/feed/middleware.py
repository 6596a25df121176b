import time

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from feed import health, replica


class HealthCheckMiddleware:
    """GET /healthz: 200 when db, cache and storage work, 503 naming the broken one otherwise (for people and
    monitoring). GET /livez: this process serves requests, and who it is (for the probe port, was/probe.py).

    Answered before Host validation: they come addressed to the replica's IP.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/livez":
            return JsonResponse({"served_by": replica.name(), "route": replica.route(), "version": settings.APP_VERSION})
        if request.path != "/healthz":
            return self.get_response(request)
        healthy, checks = health.report()
        draining = health.draining()
        body = {
            "status": "ok" if healthy and not draining else "unavailable",
            "served_by": replica.name(),
            "route": replica.route(),
            "version": settings.APP_VERSION,
            "draining": draining,
            "checks": checks,
        }
        response = JsonResponse(body, status=200 if healthy and not draining else 503)
        response["X-Served-By"] = replica.name()
        response["Cache-Control"] = "no-store"
        return response


class ServedByMiddleware:
    """Every response says which replica made it and what version it runs, so anyone can watch the balancer
    (and a deploy)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["X-Served-By"] = replica.name()
        response["X-App-Version"] = settings.APP_VERSION
        return response


class QueueDeadlineMiddleware:
    """Overload degrades: a request that waited longer than REQUEST_QUEUE_SECONDS for a thread, counted from
    when Apache received it (X-Request-Start, which Apache sets and a client cannot), gets a quick 503 with
    Retry-After instead of work whose client has likely given up: past capacity, latency stays bounded and
    a backlog drains instead of growing until BACKEND_TIMEOUT's 504s.

    Only requests without a body: Apache reads a body whole before it forwards the request (site.conf), so
    for them the stamp counts the upload too, which is not waiting.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        waited = queued_for(request.headers.get("X-Request-Start", ""), time.time())
        bodyless = request.headers.get("Content-Length", "") in ("", "0")
        if bodyless and waited > settings.REQUEST_QUEUE_SECONDS:
            page = render_to_string("503.html", {"reason": "The site is busier than it can serve just now."})
            response = HttpResponse(page, status=503)
            response["Retry-After"] = "5"
            return response
        return self.get_response(request)


def queued_for(stamp, now):
    """Seconds since Apache's X-Request-Start stamp ("t=<microseconds since the epoch>"); 0 without one."""
    micros = stamp.removeprefix("t=")
    if micros == stamp or not micros.isdigit():
        return 0.0
    return max(0.0, now - int(micros) / 1e6)
