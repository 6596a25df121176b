"""SIGKILL of the replica a client is pinned to: only requests in flight on it at that moment may fail."""
import time

import requests

from harness.cluster import Traffic, served_by


def test_killing_the_pinned_replica_fails_only_requests_in_flight_on_it(cluster, replicas, client):
    first = client.get(cluster.url("/whoami"))
    pinned_route = client.cookies["ROUTEID"]
    victim = replicas[served_by(first)]

    with Traffic(cluster, clients=6, timeout=30) as traffic:
        time.sleep(2)
        victim.kill(signal="SIGKILL")
        kill_returned = time.monotonic()
        after_kill = client.get(cluster.url("/whoami"), timeout=30)
        time.sleep(3)

    failures = traffic.failures()
    sent_after = [o for o in traffic.outcomes if o.started >= kill_returned]
    in_flight = [o for o in failures if o.started < kill_returned]
    print(f"kill of {victim.name}: {len(traffic.outcomes)} requests, {len(sent_after)} sent after the kill, "
          f"{len(in_flight)} in flight lost: {[(o.status, o.error) for o in in_flight]}, "
          f"{traffic.retries} retried after a kept-alive connection closed")
    assert len(sent_after) > 50
    assert [o for o in sent_after if not o.ok] == []
    # At most one request per client can be in flight, and only those that started before the kill.
    assert len(in_flight) <= traffic.clients
    assert all(o.started < kill_returned for o in failures)

    assert after_kill.status_code == 200
    assert served_by(after_kill) != victim.name
    assert client.cookies["ROUTEID"] != pinned_route, "the pinned client kept the dead replica's route"


def test_a_dead_replica_leaves_the_balancer_without_a_reload(cluster, replicas):
    # A graceful reload holds new connections for up to a second; a member gone is stopped in place instead.
    victim = sorted(replicas.values(), key=lambda c: c.name)[0]
    since = time.time()
    victim.kill(signal="SIGKILL")
    cluster.wait_members(len(replicas) - 1)
    log = cluster.apache().logs(since=since).decode()
    assert "without a reload: stopped route=" in log
    assert "SIGUSR1" not in log
    assert all(served_by(requests.get(cluster.url("/whoami"), timeout=10)) != victim.name for _ in range(10))
