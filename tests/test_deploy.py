"""`make deploy` (scripts/deploy) and `make swarm-deploy` (scripts/swarm-deploy, Swarm's rolling update): a new
version rolls through the cluster under load with no failed request, everyone stays logged in, and a version
that fails its health check rolls back by itself. A new Apache (Compose) costs only the connections tried while
the port passes from the old one to the new one, and one that cannot start never replaces the running one."""
import collections
import re
import socket
import subprocess
import time

import pytest

from harness.cluster import ROOT, SwarmCluster, Traffic

pytestmark = pytest.mark.swarm


@pytest.fixture(scope="module")
def version(cluster):
    """Version <project>-v2 of the app; at the end the cluster is deployed back to the image it was started
    with, and the version's image removed."""
    tag = cluster.build_version(f"{cluster.project}-v2")
    yield tag
    deploy(cluster)
    cluster.docker.images.remove(f"django-clustering/was:{tag}")


@pytest.fixture(scope="module")
def unready_version(cluster):
    """A version whose probe port is not the one its health check asks: never healthy (gunicorn serves)."""
    tag = cluster.build_version(f"{cluster.project}-unready", PROBE_PORT="8009")
    yield tag
    cluster.docker.images.remove(f"django-clustering/was:{tag}")


def compose_only(cluster, why):
    if isinstance(cluster, SwarmCluster):
        pytest.skip(why)


@pytest.fixture(scope="module")
def apache_version(cluster):
    """Apache's build <project>-apache-v2. Replacing Apache must keep its port, so the cluster's port is pinned
    first (its settings said "any"); at the end Apache is deployed back to the image it was started with."""
    compose_only(cluster, "make swarm-deploy rolls the app only")
    cluster.env["HTTP_PORT"] = str(cluster.published_port())
    tag = cluster.build_version(f"{cluster.project}-apache-v2", service="apache")
    yield tag
    deploy(cluster)
    cluster.docker.images.remove(f"django-clustering/apache:{tag}")


def deploy(cluster, **env):
    """A deploy whose canary (Compose) and health check start period (Swarm) are short: 30 s, as a new task
    took up to 35 s to be healthy on a 2-core machine at a load average of 40."""
    start = time.monotonic()
    result = cluster.deploy(DEPLOY_CANARY_SECONDS="3", WAS_START_PERIOD="30s", **env)
    print(f"{cluster.DEPLOY}: {time.monotonic() - start:.1f} s, exit status {result.returncode}")
    return result


def versions(cluster):
    return {name: dict(e.split("=", 1) for e in c.attrs["Config"]["Env"])["APP_VERSION"]
            for name, c in cluster.replicas().items()}


def test_a_deploy_under_load_fails_no_request_and_keeps_everyone_logged_in(cluster, replicas, version):
    before = versions(cluster)
    # 16 clients, each pinned by its ROUTEID, 8 of them logged in.
    with Traffic(cluster, clients=16, users=8, timeout=30) as traffic:
        result = deploy(cluster, TAG=version)
    print(result.stdout[-3000:])
    after = versions(cluster)
    print(f"deploy {sorted(set(before.values()))} -> {sorted(set(after.values()))} under 16 clients: "
          f"{len(traffic.outcomes)} requests, {len(traffic.failures())} failed or logged out, "
          f"slowest {traffic.slowest():.2f} s")
    assert result.returncode == 0, result.stderr[-2000:]
    assert traffic.failures() == []
    assert len(after) == len(before) and set(after.values()) == {version}
    cluster.wait_members(len(after))


def test_a_version_that_fails_its_health_check_rolls_back_with_no_failed_request(cluster, replicas, unready_version):
    before = versions(cluster)
    with Traffic(cluster, clients=8, timeout=30) as traffic:
        result = deploy(cluster, TAG=unready_version, DEPLOY_HEALTH_TIMEOUT="30")
    print(result.stdout[-3000:])
    print(f"rolled back under 8 clients: {len(traffic.outcomes)} requests, {len(traffic.failures())} failed, "
          f"slowest {traffic.slowest():.2f} s")
    assert result.returncode == 1 and "rolled back" in result.stdout
    assert traffic.failures() == [] and len(traffic.outcomes) > 100
    assert versions(cluster) == before
    cluster.wait_members(len(before))


def test_a_deploy_killed_halfway_leaves_the_site_serving_and_the_next_one_finishes_it(cluster, replicas, version):
    compose_only(cluster, "Swarm's manager carries on a rolling update by itself: there is no deploy process to kill")
    before = versions(cluster)
    # Back to the image the stack started with: SIGKILLed once its first new replica serves.
    command = [ROOT / "scripts" / "deploy"]
    env = cluster.environment(DEPLOY_CANARY_SECONDS="3")
    with Traffic(cluster, clients=8, timeout=30) as traffic:
        halfway = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        for line in halfway.stdout:
            if "healthy, routed" in line:
                halfway.kill()
                break
        halfway.wait(60)
        interrupted = versions(cluster)
        result = deploy(cluster)
    print(result.stdout[-3000:])
    after = versions(cluster)
    print(f"killed halfway: {interrupted}; then {after}; {len(traffic.outcomes)} requests, "
          f"{len(traffic.failures())} failed")
    assert len(set(interrupted.values())) == 2, "the deploy was not killed halfway"
    assert result.returncode == 0, result.stderr[-2000:]
    assert traffic.failures() == []
    assert len(after) == len(before) and version not in after.values()


def failure_kind(outcome):
    """What a client saw of a failed request: an HTTP status, "logged out", or how its connection failed."""
    if outcome.status is not None:
        return f"HTTP {outcome.status}"
    for kind, marks in {"refused": ("Connection refused",), "reset": ("Connection reset",),
                        "closed": ("without response", "RemoteDisconnected"), "timeout": ("Timeout", "timed out"),
                        "logged out": ("logged out",)}.items():
        if any(mark in outcome.error for mark in marks):
            return kind
    return outcome.error[:80]


def wait_every_client_answered(traffic, since, timeout=120):
    """Until each of the traffic's clients got an answer to a request sent after `since` (time.monotonic())."""
    deadline = time.monotonic() + timeout
    while {o.client for o in traffic.outcomes if o.ok and o.started > since} != set(range(traffic.clients)):
        assert time.monotonic() < deadline, "not every client answered"
        time.sleep(0.2)


def test_a_new_apache_under_load_costs_only_connections_tried_in_its_measured_gap_and_keeps_routes_and_logins(
        cluster, replicas, apache_version):
    # 16 clients on kept-alive connections, each pinned by its ROUTEID, 8 of them logged in; no retry of a
    # request whose connection closed: every connection-level failure counts.
    with Traffic(cluster, clients=16, users=8, timeout=30, retry=False) as traffic:
        wait_every_client_answered(traffic, 0)
        result = deploy(cluster, APACHE_TAG=apache_version)
        wait_every_client_answered(traffic, time.monotonic())
    print(result.stdout[-3000:])
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    gap = float(re.search(r"new connections failed for ([0-9.]+) s", result.stdout)[1])
    failures = traffic.failures()
    kinds = collections.Counter(map(failure_kind, failures))
    span = max((o.ended for o in failures), default=0) - min((o.started for o in failures), default=0)
    print(f"apache replaced under 16 clients: gap {gap:.2f} s measured by the deploy; {len(traffic.outcomes)} "
          f"requests, {len(failures)} failed {dict(kinds)}, within {span:.2f} s")
    assert cluster.apache().image.tags == [f"django-clustering/apache:{apache_version}"]
    # No HTTP error, no timeout, nobody logged out: only connections Apache had not accepted, all within the
    # deploy's measured gap (plus the clients' own 1 s timing slack).
    assert set(kinds) <= {"refused", "reset", "closed"}
    assert span <= gap + 1
    # Everyone stayed on the replica of their route, and answered (logged in) after the deploy.
    served = {client: {o.served_by for o in traffic.outcomes if o.client == client and o.ok}
              for client in range(traffic.clients)}
    assert all(len(names) == 1 for names in served.values()), served


def test_a_new_apache_that_cannot_start_never_replaces_the_running_one(cluster, replicas, apache_version):
    before = cluster.apache().id
    # Its configuration fails `apache2 -t`: a directive Apache does not know.
    broken = cluster.build_version(f"{cluster.project}-apache-broken", service="apache",
                                   run="echo NoSuchDirective on >>/etc/apache2/site.conf")
    try:
        with Traffic(cluster, clients=4, timeout=30) as traffic:
            result = deploy(cluster, APACHE_TAG=broken)
    finally:
        cluster.docker.images.remove(f"django-clustering/apache:{broken}")
    print(result.stdout[-3000:])
    assert result.returncode == 1 and "failed its check" in result.stdout and "NoSuchDirective" in result.stdout
    assert cluster.apache().id == before
    assert traffic.failures() == [] and len(traffic.outcomes) > 20


def test_a_canary_that_gets_too_few_answers_in_its_time_rolls_the_deploy_back(cluster, replicas, version):
    compose_only(cluster, "Swarm's gate is the health check and its monitor period, no canary")
    before = versions(cluster)
    result = deploy(cluster, TAG=version, DEPLOY_CANARY_REQUESTS="1000", DEPLOY_CANARY_MAX_SECONDS="3")
    print(result.stdout[-3000:])
    assert result.returncode == 1 and "canary got only" in result.stdout and "rolled back" in result.stdout
    assert versions(cluster) == before
    cluster.wait_members(len(before))


def test_a_request_in_flight_when_the_old_apache_stops_is_answered(cluster, replicas, apache_version):
    """A request body still arriving when the old Apache is told to stop (SIGWINCH, seen in its log): Apache
    finishes it before its container goes, and a replica answers it."""
    old = cluster.apache()
    since = int(time.time())
    # 16 KiB every 0.25 s, well above Apache's minimum body rate, for up to 8 MiB (within the upload limit).
    chunk, chunks = b"x" * 16384, 512
    with socket.create_connection(("127.0.0.1", cluster.published_port()), timeout=60) as connection:
        connection.sendall(f"POST /whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(chunk) * chunks}\r\n"
                           "Connection: close\r\n\r\n".encode())
        # Back to the Apache the cluster started with.
        deploying = subprocess.Popen([ROOT / "scripts" / "deploy"], env=cluster.environment(DEPLOY_CANARY_SECONDS="3"),
                                     stdout=subprocess.PIPE, text=True)
        sent = 0
        while sent < chunks - 1 and b"caught SIGWINCH" not in old.logs(since=since):
            connection.sendall(chunk)
            sent += 1
            time.sleep(0.25)
        stopping = b"caught SIGWINCH" in old.logs(since=since)
        connection.sendall(chunk * (chunks - sent))
        status = connection.makefile("rb").readline()
    output, _ = deploying.communicate(timeout=600)
    print(output[-2000:])
    print(f"in flight at the stop signal ({sent} of {chunks} parts of its body sent): {status!r}")
    assert deploying.returncode == 0 and "apache: done" in output
    assert stopping, "the old Apache was not told to stop while the request was in flight"
    # Any answer of the app's (Django refuses a POST without its CSRF token), not a 5xx nor a closed connection.
    assert re.match(rb"HTTP/1\.1 [234]\d\d ", status), status
