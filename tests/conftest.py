"""Stacks for the tests, each under a compose project (or Swarm stack) of its own, removed (with its volumes)
at the end.

They never touch the stack of `make up` (project django-clustering) or `make swarm-up`: other project and
stack names, other secrets, random ports. Modules marked `swarm` run against both deployments.
"""
import contextlib
import os
import socket
import subprocess
import uuid

import pytest
import requests

from cluster import REPLICAS, ROOT, SwarmCluster, running_stack


@contextlib.contextmanager
def running_swarm_stack(secrets_dir):
    """The same on Docker Swarm, deployed by scripts/swarm-up and removed by scripts/swarm-down (which also
    leaves the swarm if swarm-up created it)."""
    stack = f"dc-test-swarm-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "STACK": stack,
        "SECRETS_DIR": str(secrets_dir),
        "HTTP_PORT": str(free_port()),
        "WAS_REPLICAS": str(REPLICAS),
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "BACKEND_TIMEOUT": "10",
    }
    subprocess.run([ROOT / "scripts" / "secrets"], check=True, env=env)
    try:
        subprocess.run([ROOT / "scripts" / "swarm-up"], check=True, env=env, timeout=300)
        stack_cluster = SwarmCluster(stack, f"http://127.0.0.1:{env['HTTP_PORT']}")
        stack_cluster.wait_members(REPLICAS)
        yield stack_cluster
    finally:
        subprocess.run([ROOT / "scripts" / "swarm-down"], check=True, env=env, timeout=300)


def free_port():
    """A port nothing listens on now: Swarm publishes a fixed one."""
    with socket.socket() as probe:
        probe.bind(("", 0))
        return probe.getsockname()[1]


def pytest_generate_tests(metafunc):
    """Tests of modules marked `swarm` run twice: on the Compose stack and on the Swarm stack."""
    if metafunc.definition.get_closest_marker("swarm") and "cluster" in metafunc.fixturenames:
        metafunc.parametrize("cluster", ["compose", "swarm"], indirect=True, scope="session")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """The Swarm stack's tests last (after pytest's grouping by fixture): it is deployed for the first of
    them and removed at the end of the session, so it stands only while they run."""
    items.sort(key=lambda item: getattr(item, "callspec", None) is not None
               and item.callspec.params.get("cluster") == "swarm")


@pytest.fixture(scope="session")
def secrets_dir(tmp_path_factory):
    """The test stacks' own generated secrets."""
    return tmp_path_factory.mktemp("secrets")


@pytest.fixture(scope="session")
def compose_cluster(secrets_dir):
    with running_stack(secrets_dir) as stack:
        yield stack


@pytest.fixture(scope="session")
def swarm_cluster(secrets_dir):
    with running_swarm_stack(secrets_dir) as stack:
        yield stack


@pytest.fixture(scope="session")
def cluster(request):
    """The Compose stack, or for a test parametrised so, the Swarm stack."""
    return request.getfixturevalue(f"{getattr(request, 'param', 'compose')}_cluster")


@pytest.fixture
def replicas(cluster):
    """Each test starts (and leaves the next one) with REPLICAS replicas, all routed to."""
    cluster.scale(REPLICAS)
    cluster.wait_members(REPLICAS)
    yield cluster.replicas()
    cluster.scale(REPLICAS)
    cluster.wait_members(REPLICAS)


@pytest.fixture
def client():
    with requests.Session() as session:
        yield session
