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
from testcontainers.compose import DockerCompose

from cluster import ROOT, Cluster, SwarmCluster

REPLICAS = 2


@contextlib.contextmanager
def running_stack(secrets_dir, files=("compose.yaml",), port=80, scheme="http", **settings):
    """Starts a stack (healthy, balancer routing to every replica) and yields its Cluster."""
    project = f"dc-test-{uuid.uuid4().hex[:8]}"
    env = {
        "COMPOSE_PROJECT_NAME": project,
        "SECRETS_DIR": str(secrets_dir),
        "HTTP_PORT": "0",
        "HTTPS_PORT": "0",
        "WAS_REPLICAS": str(REPLICAS),
        # "apache": the name the browser test's Chromium uses on the front network.
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1,apache",
        # Requests caught on a killed or hung replica end sooner; nothing else depends on it.
        "BACKEND_TIMEOUT": "10",
        **settings,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    subprocess.run([ROOT / "scripts" / "secrets"], check=True, env=os.environ)
    compose = DockerCompose(ROOT, compose_file_name=list(files), wait=True)
    try:
        compose.start()
        subprocess.run([ROOT / "scripts" / "host-firewall", "on", project], check=True)
        _, published = compose.get_service_host_and_port("apache", port)
        stack = Cluster(project, f"{scheme}://127.0.0.1:{published}")
        stack.wait_members(int(env["WAS_REPLICAS"]))
        yield stack
    finally:
        compose.stop()  # down --volumes
        subprocess.run([ROOT / "scripts" / "host-firewall", "off", project], check=True)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


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
