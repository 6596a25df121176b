"""`make deploy` (scripts/deploy) and `make swarm-deploy` (scripts/swarm-deploy, Swarm's rolling update): a new
version rolls through the cluster under load with no failed request, everyone stays logged in, and a version
that fails its health check rolls back by itself."""
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
    if isinstance(cluster, SwarmCluster):
        pytest.skip("Swarm's manager carries on a rolling update by itself: there is no deploy process to kill")
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
