"""`make deploy` (scripts/deploy): a new version rolls through the cluster under load with no failed request,
everyone stays logged in, and a version that fails its health check rolls back by itself."""
import subprocess

import pytest

from harness.cluster import ROOT, Traffic


@pytest.fixture(scope="module")
def version(cluster):
    """Version <project>-v2 of the app; at the end the cluster is deployed back to the image it was started
    with, and the version's image removed."""
    tag = cluster.build_version(f"{cluster.project}-v2")
    yield tag
    deploy(cluster)
    cluster.docker.images.remove(f"django-clustering/was:{tag}")


def deploy(cluster, **env):
    return cluster.deploy(DEPLOY_CANARY_SECONDS="3", **env)


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
          f"{len(traffic.outcomes)} requests, {len(traffic.failures())} failed or logged out")
    assert result.returncode == 0, result.stderr[-2000:]
    assert traffic.failures() == []
    assert len(after) == len(before) and set(after.values()) == {version}
    cluster.wait_members(len(after))


def test_a_version_that_fails_its_health_check_rolls_back_with_no_failed_request(cluster, replicas, version):
    before = versions(cluster)
    # Ready never: its probe says stalled from the start (was/probe.py).
    with Traffic(cluster, clients=8, timeout=30) as traffic:
        result = deploy(cluster, TAG=version, REPLICA_STALL_SECONDS="0", DEPLOY_HEALTH_TIMEOUT="30")
    print(result.stdout[-3000:])
    assert result.returncode == 1 and "rolled back" in result.stdout
    assert traffic.failures() == [] and len(traffic.outcomes) > 100
    assert versions(cluster) == before
    cluster.wait_members(len(before))


def test_a_deploy_killed_halfway_leaves_the_site_serving_and_the_next_one_finishes_it(cluster, replicas, version):
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
