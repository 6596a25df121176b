"""Only Apache's HTTP port is published, on loopback, and the balancer's own pages are not behind it."""
import uuid

import pytest

from users import Visitor


def test_the_stack_publishes_exactly_one_port_on_loopback(cluster):
    published = []
    for container in cluster.docker.containers.list(filters={"label": f"com.docker.compose.project={cluster.project}"}):
        for port, bindings in (container.attrs["NetworkSettings"]["Ports"] or {}).items():
            for binding in bindings or []:
                published.append((container.labels["com.docker.compose.service"], port, binding["HostIp"]))
    assert published == [("apache", "80/tcp", "127.0.0.1")]


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
