"""One stack for the whole session, under a compose project of its own, removed (with its volumes) at the end.

It never touches the stack of `make up` (project django-clustering): other project name, other secrets,
a random loopback port.
"""
import os
import subprocess
import uuid

import pytest
import requests
from testcontainers.compose import DockerCompose

from cluster import ROOT, Cluster

REPLICAS = 2


@pytest.fixture(scope="session")
def secrets_dir(tmp_path_factory):
    """This stack's own generated secrets."""
    return tmp_path_factory.mktemp("secrets")


@pytest.fixture(scope="session")
def cluster(secrets_dir):
    project = f"dc-test-{uuid.uuid4().hex[:8]}"
    env = {
        "COMPOSE_PROJECT_NAME": project,
        "SECRETS_DIR": str(secrets_dir),
        "HTTP_PORT": "0",
        # "apache": the name the browser test's Chromium uses on the front network.
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1,apache",
        "WAS_REPLICAS": str(REPLICAS),
        # Requests caught on a killed replica end sooner; nothing else depends on it.
        "BACKEND_TIMEOUT": "10",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    subprocess.run([ROOT / "scripts" / "secrets"], check=True, env=os.environ)
    compose = DockerCompose(ROOT, compose_file_name="compose.yaml", wait=True)
    try:
        compose.start()
        _, port = compose.get_service_host_and_port("apache", 80)
        stack = Cluster(project, f"http://127.0.0.1:{port}")
        stack.wait_members(REPLICAS)
        yield stack
    finally:
        compose.stop()  # down --volumes
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


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
