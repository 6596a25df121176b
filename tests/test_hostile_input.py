"""Forged cookies, traversal, oversized and malformed requests: never a 500, nothing stored, nothing leaked."""
import socket
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from harness.pictures import picture
from harness.users import Visitor


@pytest.mark.parametrize("route", [".999", "garbage", "." + "9" * 5000, "..", ".1.2", ".%0d%0aSet-Cookie:x=1", ""])
def test_a_forged_routeid_gets_a_page_and_a_real_route(cluster, replicas, route):
    response = requests.get(cluster.url("/whoami"), cookies={"ROUTEID": route}, timeout=30)
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 200:
        assert response.json()["served_by"] in replicas
        assert "x=1" not in response.headers.get("Set-Cookie", "")


def test_a_forged_session_cookie_is_an_anonymous_visitor(cluster):
    for value in ("forged", "a" * 32, "'; DROP TABLE django_session; --", "x" * 4000):
        response = requests.get(cluster.url("/whoami"), cookies={"sessionid": value}, timeout=30)
        assert response.status_code == 200 and response.json()["user"] is None


@pytest.mark.parametrize("path", ["/media/../../etc/passwd", "/static/..%2f..%2f..%2fetc/passwd",
                                  "/media/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/static/../config/settings.py",
                                  "/..%2f..%2fetc/passwd", "/media/posts/../../../storage/x"])
def test_path_traversal_finds_nothing(cluster, path):
    # Raw request: a client library would normalise the dots away before sending.
    status, body = raw_get(cluster, path)
    assert status in (400, 403, 404), (path, status)
    assert b"root:" not in body and b"SECRET_KEY" not in body


def test_oversized_headers_and_bodies_get_4xx(cluster):
    big_header = requests.get(cluster.url("/"), headers={"X-Padding": "a" * 20000}, timeout=30)
    assert big_header.status_code == 400
    many_cookies = requests.get(cluster.url("/"), headers={"Cookie": "; ".join(f"c{i}=v" for i in range(3000))}, timeout=30)
    assert 400 <= many_cookies.status_code < 500
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    huge = requests.post(cluster.url("/login"), data=b"x" * (11 * 1024 * 1024), timeout=60, headers=form)
    assert huge.status_code == 413
    # Under Apache's limit, over what a login form needs: the app's own 4xx, not a broken pipe.
    large = requests.post(cluster.url("/login"), data=b"x" * (5 * 1024 * 1024), timeout=60, headers=form)
    assert 400 <= large.status_code < 500


def test_malformed_multipart_gets_400_and_stores_nothing(cluster):
    uploader = Visitor(cluster).sign_up(f"multipart-{uuid.uuid4().hex[:8]}")
    before = cluster.stored()
    token = uploader.session.cookies["csrftoken"]
    bodies = {
        "no closing boundary": (f'--b\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'
                                f'--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n').encode()
                               + picture()[:100],
        "garbage": b"\x00\xff" * 500,
        "boundary missing": b"--b\r\n\r\n--b--\r\n",
    }
    for name, body in bodies.items():
        content_type = "multipart/form-data" if name == "boundary missing" else "multipart/form-data; boundary=b"
        response = uploader.session.post(cluster.url("/posts/new"), data=body, timeout=30, allow_redirects=False,
                                         headers={"Content-Type": content_type, "Referer": cluster.url("/")})
        assert 400 <= response.status_code < 500, (name, response.status_code)
    assert cluster.stored() == before


def raw_get(cluster, path):
    url = urlsplit(cluster.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=30) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body
