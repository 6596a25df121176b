"""Who this replica is: its name (sent as X-Served-By) and its balancer route (see apache/discover-members).

Both come from the replica's own DNS name on the stack network: Compose names replicas
"<project>-was-<n>" (route n), Swarm names tasks "<stack>_was.<slot>.<task id>" (route slot).
"""
import functools
import re
import socket

import dns.exception
import dns.resolver
from django.conf import settings

_NUMBERED = re.compile(r"^(?P<name>.*?[-.](?P<route>\d+))(?:\.|$)")


@functools.cache
def identity():
    hostname = socket.gethostname()
    try:
        # Asked of the DNS server itself: /etc/hosts only knows the container's hostname.
        answer = dns.resolver.resolve_address(socket.gethostbyname(hostname), lifetime=2)
        dns_name = str(answer[0]).rstrip(".")
    except (OSError, dns.exception.DNSException):
        dns_name = hostname
    match = _NUMBERED.match(settings.REPLICA_NAME or dns_name)
    if match:
        return match["name"], match["route"]
    return hostname, re.sub(r"[^A-Za-z0-9_-]", "-", hostname)


def name():
    return identity()[0]


def route():
    return identity()[1]
