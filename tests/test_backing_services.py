"""The database restarting, or a replica hanging: clean answers, quick recovery, nothing committed lost."""
import json
import time
import uuid

import requests

from cluster import Traffic
from pictures import picture
from users import Visitor

BACKEND_TIMEOUT = 10  # set for the test stack in conftest.py


def wait_for_status(cluster, path, status, timeout=60):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if requests.get(cluster.url(path), timeout=30).status_code == status:
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"{path} never answered {status} within {timeout} s")


def test_a_database_restart_gives_clean_503s_then_200s_within_5s_and_loses_no_write(cluster, replicas):
    author = Visitor(cluster).sign_up(f"dbrestart-{uuid.uuid4().hex[:8]}")
    assert author.upload(picture(seed=5), caption="committed before the restart").status_code == 302

    db = cluster.service("db")
    db.stop()
    try:
        page = requests.get(cluster.url("/"), timeout=30)
        assert page.status_code == 503 and "Back in a moment" in page.text and "Traceback" not in page.text
        assert page.headers["Retry-After"] == "5"
        for container in replicas.values():
            checks = json.loads(container.exec_run(["curl", "-s", "http://127.0.0.1:8000/healthz"]).output)["checks"]
            assert checks["db"] != "ok" and checks["cache"] == checks["storage"] == "ok", checks
    finally:
        db.start()
    cluster.wait_healthy("db")
    recovered = wait_for_status(cluster, "/", 200)
    print(f"feed answered 200 again {recovered:.2f} s after MariaDB was healthy")
    assert recovered <= 5
    assert "committed before the restart" in author.get("/").text
    assert author.user() is not None


def test_a_hung_replica_is_taken_out_within_seconds_and_back_soon_after_it_resumes(cluster, replicas):
    name, hung = sorted(replicas.items())[0]
    with Traffic(cluster, clients=4, timeout=BACKEND_TIMEOUT + 20) as traffic:
        time.sleep(1)
        paused_at = time.monotonic()
        hung.pause()
        try:
            removed = wait_members_without(cluster, hung, timeout=15)
            time.sleep(BACKEND_TIMEOUT + 1)
        finally:
            hung.unpause()
        resumed_at = time.monotonic()
        cluster.wait_healthy(hung)
        back = cluster.wait_served_by(name, timeout=15)
    slowest = max(o.ended - o.started for o in traffic.outcomes)
    late = [o for o in traffic.outcomes if paused_at + removed + 1 < o.started < resumed_at]
    print(f"hung replica out of rotation {removed:.1f} s after the pause, routed to {back:.1f} s after it "
          f"resumed; slowest request {slowest:.1f} s; {len(traffic.failures())} of {len(traffic.outcomes)} failed")
    assert removed <= 5
    assert back <= 5
    assert slowest <= BACKEND_TIMEOUT + 2
    assert late and all(o.ok and o.served_by != name for o in late)


def wait_members_without(cluster, container, timeout):
    address = container.attrs["NetworkSettings"]["Networks"][f"{cluster.project}_back"]["IPAddress"]
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if address not in cluster.members():
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"{container.name} still a member {timeout} s after it hung")
