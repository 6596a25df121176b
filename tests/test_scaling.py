"""`make scale`: new replicas are routed to within seconds; a scale-down under traffic costs no request."""
import collections
import time

from harness.cluster import Traffic

ROUTING_DEADLINE_S = 5


def test_new_replica_gets_traffic_within_5s_of_being_healthy(cluster, replicas):
    # Start the third replica without waiting, so its healthy moment can be timed from here.
    cluster.compose("up", "-d", "--no-deps", "--no-recreate", "--scale", "was=3", "was")
    (new,) = [c for name, c in cluster.replicas().items() if name not in replicas]
    healthy_at = cluster.wait_healthy(new)
    routed_after = cluster.wait_served_by(new.name, timeout=30, since=healthy_at)
    print(f"new replica {new.name} routed to {routed_after:.2f} s after it was healthy")
    assert routed_after <= ROUTING_DEADLINE_S
    assert cluster.member_count() == 3


def test_scale_down_under_traffic_loses_no_request(cluster, replicas):
    cluster.scale(3)
    with Traffic(cluster, clients=6) as traffic:
        time.sleep(2)
        cluster.scale(2)
        time.sleep(2)
    print(f"scale 3->2 under traffic: {len(traffic.outcomes)} requests, {len(traffic.failures())} failed, "
          f"{traffic.retries} retried after a kept-alive connection closed")
    assert len(traffic.outcomes) > 100
    assert [o.error or o.status for o in traffic.failures()] == []
    assert len({o.served_by for o in traffic.outcomes}) == 3, "traffic never reached the third replica"


def test_scale_2_to_6_to_2_under_traffic_changes_members_without_reloading_apache(cluster, replicas):
    apache = cluster.apache()
    since = int(time.time())
    # Sticky clients stay on the two first replicas (and byrequests may send every new one to the same
    # replica): few enough that one replica serves them all within its threads.
    with Traffic(cluster, clients=4, users=2) as traffic:
        started = time.monotonic()
        cluster.scale(6)
        up = time.monotonic() - started
        cluster.scale(2)
        down = time.monotonic() - started - up
    log = apache.logs(since=since).decode()
    print(f"scale 2->6 in {up:.1f} s, 6->2 in {down:.1f} s: {len(traffic.outcomes)} requests, "
          f"{len(traffic.failures())} failed, slowest {traffic.slowest():.2f} s, "
          f"served by {collections.Counter(o.served_by for o in traffic.outcomes)}")
    print("\n".join(line for line in log.splitlines() if "discover-members" in line))
    assert [o.error or o.status for o in traffic.failures()] == []
    # A graceful reload logs "SIGUSR1 received"; a configuration rewritten, "members now".
    assert "SIGUSR1" not in log and "members now" not in log
    assert "without a reload: added" in log and "without a reload: stopped" in log
