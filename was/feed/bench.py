"""Views for `make bench` only, routed when DJANGO_BENCH_VIEWS is true (never in a normal run)."""
import time

from django.http import HttpResponse
from django.views.decorators.cache import never_cache


@never_cache
def trivial(request):
    """As little work as Django can do: the balancer's own cost shows against it."""
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
def io_bound(request):
    """Waits 20 ms like a slow query, using no CPU: throughput then scales with replicas, not cores."""
    time.sleep(0.02)
    return HttpResponse("ok\n", content_type="text/plain")
