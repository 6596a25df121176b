"""Only Apache's HTTP port is published, on loopback, and the balancer's own pages are not behind it;
the services behind Apache answer nothing outside the stack."""
import os
import socket
import uuid

import pytest

from harness.users import Visitor


def test_the_stack_publishes_exactly_one_port_on_loopback(cluster):
    published = []
    for container in cluster.docker.containers.list(filters={"label": f"com.docker.compose.project={cluster.project}"}):
        for port, bindings in (container.attrs["NetworkSettings"]["Ports"] or {}).items():
            for binding in bindings or []:
                published.append((container.labels["com.docker.compose.service"], port, binding["HostIp"]))
    assert published == [("apache", "80/tcp", "127.0.0.1")]


# What listens behind Apache, on the back network only (a replica: gunicorn and its probe port).
BACKEND_PORTS = {"db": [3306], "redis": [6379], "gcs": [4443], "was": [8000, 8001]}


def backend_endpoints(cluster):
    return [(service, cluster.address(container), port)
            for service, ports in BACKEND_PORTS.items() for port in ports for container in cluster.containers(service)]


def probe(address, port):
    """A shell command that succeeds when a TCP connection to address:port opens within 3 s."""
    return f"timeout 3 bash -c '</dev/tcp/{address}/{port}'"


def connects_from_host(address, port):
    try:
        socket.create_connection((address, port), timeout=3).close()
        return True
    except OSError:
        return False


def connects_from_stack(cluster, address, port):
    """From the Apache container, on the back network."""
    return cluster.apache().exec_run(["bash", "-c", probe(address, port)]).exit_code == 0


def connects_from_outside(cluster, address, port):
    """From a container on a network of its own, as another machine would."""
    network = cluster.docker.networks.create(f"{cluster.project}-outsider")
    try:
        command = f"{probe(address, port)} && echo open || echo closed"
        result = cluster.docker.containers.run(cluster.apache().image, [command], entrypoint=["bash", "-c"],
                                               network=network.name, remove=True)
        return result.decode().strip() == "open"
    finally:
        network.remove()


def test_every_backend_answers_inside_the_stack(cluster):
    """The probes below see what they should: inside the stack every backend accepts connections."""
    endpoints = backend_endpoints(cluster)
    assert {service for service, _, _ in endpoints} == set(BACKEND_PORTS)
    for service, address, port in endpoints:
        assert connects_from_stack(cluster, address, port), (service, address, port)


def test_backends_are_unreachable_from_another_network(cluster):
    for service, address, port in backend_endpoints(cluster):
        assert not connects_from_outside(cluster, address, port), (service, address, port)


@pytest.mark.skipif(os.geteuid() != 0, reason="the host firewall rule (scripts/host-firewall) needs root")
def test_backends_are_unreachable_from_the_host(cluster):
    for service, address, port in backend_endpoints(cluster):
        assert not connects_from_host(address, port), (service, address, port)


def test_internal_pages_listen_on_loopback_only(cluster):
    front = cluster.address(cluster.apache(), "front")
    assert connects_from_host(front, 80)
    assert not connects_from_host(front, 8081)


@pytest.mark.parametrize("path", ["/balancer-manager", "/balancer-manager?b=was", "/server-status",
                                  "/server-status?auto", "/Balancer-Manager", "//balancer-manager"])
def test_balancer_manager_and_server_status_are_not_public(cluster, client, path):
    response = client.get(cluster.url(path))
    assert response.status_code in (403, 404), (path, response.status_code)
    assert "Load Balancer Manager" not in response.text
    assert "Apache Server Status" not in response.text


def test_balancer_manager_answers_inside_the_stack(cluster):
    result = cluster.apache().exec_run(["curl", "-fsS", "http://127.0.0.1:8081/balancer-manager"])
    assert result.exit_code == 0 and b"balancer://was" in result.output


def test_pages_carry_security_headers_and_safe_cookies(cluster):
    visitor = Visitor(cluster).sign_up(f"headers-{uuid.uuid4().hex[:8]}")
    page = visitor.get("/")
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "same-origin"
    cookies = {c.name: c for c in visitor.session.cookies}
    assert cookies["sessionid"].has_nonstandard_attr("HttpOnly")
    for name in ("sessionid", "csrftoken"):
        assert cookies[name].get_nonstandard_attr("SameSite") == "Lax", name
