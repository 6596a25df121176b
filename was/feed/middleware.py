from django.http import JsonResponse

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
            return JsonResponse({"served_by": replica.name(), "route": replica.route()})
        if request.path != "/healthz":
            return self.get_response(request)
        healthy, checks = health.report()
        draining = health.draining()
        body = {
            "status": "ok" if healthy and not draining else "unavailable",
            "served_by": replica.name(),
            "route": replica.route(),
            "draining": draining,
            "checks": checks,
        }
        response = JsonResponse(body, status=200 if healthy and not draining else 503)
        response["X-Served-By"] = replica.name()
        response["Cache-Control"] = "no-store"
        return response


class ServedByMiddleware:
    """Every response says which replica made it, so anyone can watch the balancer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["X-Served-By"] = replica.name()
        return response
