"""A replica's liveness is its own: the probe port answers whatever gunicorn's threads are doing, a replica
whose threads are all busy but finishing requests stays, and a replica whose gunicorn stops answering leaves
the balancer and is restarted (Compose restarts only exits)."""
import concurrent.futures
import time
import uuid

import pytest

from harness.cluster import running_stack, signal_processes
from harness.pictures import picture
from harness.users import Visitor

STALL_SECONDS = 10  # REPLICA_STALL_SECONDS, compose.yaml's default
LIVENESS_SECONDS = 20  # REPLICA_LIVENESS_SECONDS, set for the test stacks in harness/cluster.py
# Twice a replica's request threads (2 workers x 4): every thread busy, as many uploads queued behind them.
UPLOADERS = 16


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
    # Counted from gunicorn's last answer, which the probe asks for every second: up to 1 s before the stop.
    assert LIVENESS_SECONDS - 1 <= restarted <= LIVENESS_SECONDS + 10


@pytest.fixture(scope="module")
def shipped_deadlines(tmp_path_factory):
    """A stack of its own with the shipped request deadlines (BACKEND_TIMEOUT 30 s, the replicas' queue and
    decode waits at compose.yaml's defaults), which the suite's stack shortens: under them a request may wait
    in a busy replica longer than its stall time and still be served."""
    with running_stack(tmp_path_factory.mktemp("secrets"), BACKEND_TIMEOUT="30", REQUEST_QUEUE_SECONDS="",
                       UPLOAD_DECODE_WAIT_SECONDS="") as stack:
        yield stack


def test_uploads_keeping_every_thread_busy_past_the_stall_time_neither_drop_nor_restart_the_replica(
        shipped_deadlines):
    cluster = shipped_deadlines
    name, busy = sorted(cluster.replicas().items())[0]
    route = cluster.routes()[name]
    users = [Visitor(cluster).sign_up(f"uploader-{uuid.uuid4().hex[:8]}") for _ in range(UPLOADERS)]
    for user in users:
        user.pin(route)
        user.session.close()  # new connections: an idle kept-alive one may be closed under a POST, not retried
    content = picture("JPEG", (6300, 6300))  # 39.7 M pixels to decode, in 0.2 MiB
    # A quarter of a core: each decode takes seconds, as on a host busy with more than this stack. On main
    # before this test, /livez then waited in gunicorn's queue past the stall time and the replica was dropped.
    busy.update(cpu_period=100_000, cpu_quota=25_000)
    restarts = reloaded(busy)["RestartCount"]
    deadline = time.monotonic() + 2 * LIVENESS_SECONDS

    def keep_uploading(user):
        codes = []
        while time.monotonic() < deadline:
            codes.append(user.upload(content).status_code)
        return codes

    with concurrent.futures.ThreadPoolExecutor(len(users)) as pool:
        uploads = [pool.submit(keep_uploading, user) for user in users]
        seen = cluster.watch_members(2 * LIVENESS_SECONDS)
        codes = [code for upload in uploads for code in upload.result()]
    print(f"{len(users)} clients uploading 39.7 M pixel JPEGs to {name} on a quarter core for "
          f"{2 * LIVENESS_SECONDS} s: {codes.count(302)} stored, {codes.count(503)} told to retry (503), "
          f"others {sorted(c for c in codes if c not in (302, 503))}; member sets seen: {len(seen)}")
    assert len(seen) == 1, f"members changed: {seen}"
    assert set(codes) <= {302, 503} and codes.count(302) >= 2, codes
    assert reloaded(busy)["RestartCount"] == restarts


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
