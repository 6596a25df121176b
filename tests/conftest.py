"""Stacks for the tests, each under a compose project of its own, removed (with its volumes) at the end.

They never touch the stack of `make up` (project django-clustering): other project names, other secrets,
random loopback ports.
"""
import contextlib
import os
import subprocess
import uuid

import pytest
import requests
from testcontainers.compose import DockerCompose

from cluster import ROOT, Cluster

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


@pytest.fixture(scope="session")
def secrets_dir(tmp_path_factory):
    """The test stacks' own generated secrets."""
    return tmp_path_factory.mktemp("secrets")


@pytest.fixture(scope="session")
def cluster(secrets_dir):
    with running_stack(secrets_dir) as stack:
        yield stack


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
