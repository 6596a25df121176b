"""A replica's liveness is its own: the probe port answers whatever gunicorn's threads are doing, and a
replica whose gunicorn stops answering leaves the balancer and is restarted (Compose restarts only exits)."""
import time

from harness.cluster import signal_processes

STALL_SECONDS = 10  # REPLICA_STALL_SECONDS, compose.yaml's default
LIVENESS_SECONDS = 20  # REPLICA_LIVENESS_SECONDS, set for the test stack in harness/cluster.py


def test_a_replica_whose_gunicorn_stops_answering_leaves_the_balancer_and_is_restarted(cluster, replicas):
    name, victim = sorted(replicas.items())[0]
    address = cluster.address(victim)
    restarts = victim.attrs["RestartCount"]
    stalled = time.monotonic()
    signal_processes(victim, "gunicorn", "STOP")
    left = wait_until(lambda: address not in cluster.members(), timeout=STALL_SECONDS + 10) - stalled
    restarted = wait_until(lambda: reloaded(victim)["RestartCount"] > restarts, timeout=LIVENESS_SECONDS + 20) - stalled
    back = cluster.wait_served_by(name, timeout=60, since=stalled)
    print(f"gunicorn of {name} stopped: out of the balancer after {left:.1f} s, restarted after {restarted:.1f} s, "
          f"routed to again after {back:.1f} s")
    assert left <= STALL_SECONDS + 4
    assert LIVENESS_SECONDS <= restarted <= LIVENESS_SECONDS + 10


def reloaded(container):
    container.reload()
    return container.attrs


def wait_until(condition, timeout):
    """Polls every 0.2 s; returns the time.monotonic() at which the condition held."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic()
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s")
