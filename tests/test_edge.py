"""The edge shields the replicas: slow, stalled and oversized request bodies end at Apache, and overload
degrades instead of dropping members."""
import contextlib
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from harness.cluster import Traffic, signal_processes

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SLOW_CLIENTS_PER_REPLICA = 32
MIB = 1024 * 1024
QUEUE_SECONDS = 5  # REQUEST_QUEUE_SECONDS, set for the test stack in harness/cluster.py


def test_slow_request_bodies_hold_no_replica_and_other_clients_see_nothing(cluster, replicas):
    deadline = time.monotonic() + 30
    slow = len(replicas) * SLOW_CLIENTS_PER_REPLICA
    with ThreadPoolExecutor(slow) as pool, Traffic(cluster, clients=6, timeout=30) as traffic:
        trickles = [pool.submit(trickle, cluster, deadline) for _ in range(slow)]
        seen = cluster.watch_members(30)
    cut_off = sum(t.result() for t in trickles)
    latencies = sorted(o.ended - o.started for o in traffic.outcomes)
    p99 = latencies[int(len(latencies) * 0.99)]
    print(f"{slow} bodies at 1 KB/s for 30 s ({cut_off} cut off by Apache): other clients {len(traffic.outcomes)} "
          f"requests, {len(traffic.failures())} failed, p99 {p99:.3f} s, slowest {traffic.slowest():.3f} s")
    assert len(seen) == 1, f"members changed: {seen}"
    assert len(traffic.outcomes) > 100 and traffic.failures() == []
    assert p99 < 1


def test_a_chunked_body_over_the_limit_is_refused_with_413_and_no_replica_sees_it(cluster):
    with connect(cluster) as conn:
        conn.sendall(form_head(chunked=True))
        # 11 MiB in 64 KiB chunks, never the last chunk: a 413 can only come as the body arrives. Apache reads
        # on for a moment after answering (lingering close), then may reset the connection.
        with contextlib.suppress(OSError):
            for _ in range(11 * 16):
                conn.sendall(b"10000\r\n" + b"x" * 65536 + b"\r\n")
        status, head = response_of(conn)
    assert status == 413 and b"x-served-by" not in head.lower()


def test_a_chunked_body_under_the_limit_is_passed_on_to_a_replica(cluster):
    with connect(cluster) as conn:
        conn.sendall(form_head(chunked=True) + b"10000\r\na=" + b"x" * 65534 + b"\r\n0\r\n\r\n")
        status, head = response_of(conn)
    # Django's answer (no CSRF cookie), having read the form.
    assert status == 403 and b"x-served-by" in head.lower()


def test_a_body_announced_over_the_limit_is_refused_with_413_before_any_of_it_is_read(cluster):
    with connect(cluster) as conn:
        conn.sendall(form_head(11 * MIB))
        status, head = response_of(conn)
    assert status == 413 and b"x-served-by" not in head.lower()


def test_an_upload_that_pauses_on_a_kept_alive_connection_is_served_and_kills_no_apache_child(cluster):
    # From its second request on, a connection gets a reused backend connection, and Apache reads the body
    # without blocking: mod_request's KEEP_BODY (which buffered bodies before) then segfaulted on late data.
    body = b"a=" + b"x" * 300_000
    with connect(cluster) as conn:
        for pause in (0, 1, 1):
            conn.sendall(form_head(len(body)) + body[:100_000])
            time.sleep(pause)
            conn.sendall(body[100_000:])
            assert response_of(conn)[0] == 403  # no CSRF cookie: Django's answer, the body read whole
    assert b"Segmentation fault" not in cluster.apache().logs()


def test_overload_keeps_every_member_and_fails_no_request(cluster, replicas):
    # Four clients for every request thread of every replica (2 workers x 4 threads).
    with Traffic(cluster, clients=4 * 8 * len(replicas), path="/", timeout=60) as traffic:
        seen = cluster.watch_members(20)
    print(f"{traffic.clients} clients on the feed for 20 s: {len(traffic.outcomes)} requests, "
          f"{len(traffic.failures())} failed, slowest {traffic.slowest():.2f} s")
    assert len(seen) == 1, f"members changed: {seen}"
    assert traffic.failures() == []


def test_a_request_that_waited_past_the_queue_deadline_gets_a_quick_503_with_retry_after(cluster, replicas):
    (name, victim), (other, _) = sorted(replicas.items())[:2]
    routes = cluster.routes()
    pinned = {"ROUTEID": "." + routes[name]}
    # gunicorn frozen for longer than the deadline, shorter than the probe's stall limit (10 s): the replica
    # stays a member, and the requests Apache sends it wait in its listen queue.
    signal_processes(victim, "gunicorn", "STOP")
    try:
        with ThreadPoolExecutor(4) as pool:
            waiting = [pool.submit(requests.get, cluster.url("/"), cookies=pinned, timeout=30) for _ in range(4)]
            time.sleep(QUEUE_SECONDS + 2)
            # Served meanwhile by the other replica; the stamp is Apache's, whatever a client sends.
            others = requests.get(cluster.url("/"), cookies={"ROUTEID": "." + routes[other]},
                                  headers={"X-Request-Start": "t=1"}, timeout=5)
            resumed = time.monotonic()
            signal_processes(victim, "gunicorn", "CONT")
            answers = [future.result() for future in waiting]
            answered_after = time.monotonic() - resumed
    finally:
        signal_processes(victim, "gunicorn", "CONT")
    print(f"4 requests held {QUEUE_SECONDS + 2} s in {name}'s queue: {[a.status_code for a in answers]}, "
          f"answered {answered_after:.2f} s after it resumed")
    assert others.status_code == 200
    for answer in answers:
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5", answer.status_code
        assert answer.headers["X-Served-By"] == name and "busier than it can serve" in answer.text
    assert answered_after < 2


def test_a_503_made_by_apache_tells_clients_when_to_retry(cluster, replicas):
    # Every member stopped through balancer-manager (discovery does the same for a replica that is gone).
    with members_stopped(cluster):
        response = requests.get(cluster.url("/"), timeout=10)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "X-Served-By" not in response.headers


@contextlib.contextmanager
def members_stopped(cluster):
    """Every member stopped in balancer-manager, as discover-members stops one gone (its set_stopped)."""
    def set_stopped(flag):
        cluster.exec("apache", f'bash -c ". discover-members && set_stopped {flag} </run/apache2/members/members"')

    addresses = cluster.members()
    set_stopped(1)
    try:
        yield
    finally:
        set_stopped(0)
    assert cluster.members() == addresses


def trickle(cluster, deadline):
    """A client sending a form body at 1 KB/s until the deadline, anew each time Apache cuts it off; returns
    how many times it was cut off."""
    cut_off = 0
    while time.monotonic() < deadline:
        with connect(cluster, timeout=5) as conn:
            conn.sendall(form_head(1_000_000))
            try:
                while time.monotonic() < deadline:
                    conn.sendall(b"x" * 1024)
                    time.sleep(1)
            except OSError:
                cut_off += 1
    return cut_off


def connect(cluster, timeout=30):
    url = urlsplit(cluster.base_url)
    return socket.create_connection((url.hostname, url.port), timeout=timeout)


def form_head(length=None, chunked=False):
    """A form POST's request line and headers, announcing a body of `length` bytes, or a chunked one."""
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % length
    return (b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + framing + b"\r\n\r\n")


def response_of(conn):
    """(status, head) of the response read from conn, body and all (the connection is then ready for the next)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536) or pytest.fail(f"connection closed after {data!r}")
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")), 0)
    while len(body) < length:
        body += conn.recv(65536) or pytest.fail("connection closed mid-body")
    return int(head.split()[1]), head
