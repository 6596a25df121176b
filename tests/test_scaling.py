"""`make scale`: new replicas are routed to within seconds; a scale-down under traffic costs no request."""
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
