"""A Docker engine of its own for the Swarm tests (tests/swarm-engine): the swarm is initialised and left inside
it, never on the host's engine, where leaving a swarm cuts Docker's DNS in every running container (Docker
20.10). The host reaches it through a unix socket in a temporary directory, and Apache's published port
through a port the engine's container publishes on 127.0.0.1."""
import contextlib
import os
import subprocess
import time
import uuid
from dataclasses import dataclass

import docker

from .cluster import REPLICAS, ROOT, UNLIMITED_CLIENTS, SwarmCluster, tag

# The port the Swarm stack publishes inside the engine (its HTTP_PORT): the engine's own, so any port will do.
STACK_PORT = 8080


@dataclass
class Engine:
    host: str  # for DOCKER_HOST or `docker --host`
    stack_port: int  # the host's 127.0.0.1 port that reaches STACK_PORT in the engine
    started_seconds: float
    loaded_seconds: float


def stack_images():
    """The images of compose.swarm.yaml, as this TAG names them."""
    return sorted(set(subprocess.run(["docker", "compose", "-f", "compose.swarm.yaml", "config", "--images"],
                                     cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()))


@contextlib.contextmanager
def isolated_engine(socket_dir, timeout=60):
    """Starts the engine on a network of its own, loads the stack's images into it, yields its Engine; removes
    its container, volume and network at the end."""
    host = docker.from_env()
    name = f"dc-test-engine-{uuid.uuid4().hex[:8]}"
    network = host.networks.create(name)
    try:
        start = time.monotonic()
        container = host.containers.run(
            f"django-clustering/swarm-engine:{tag()}", name=name, network=name, detach=True,
            # Everything --privileged gives but CAP_SYS_RESOURCE, which this host's engine can't grant
            # (tests/swarm-engine/start makes /sys, /proc/sys and the cgroups writable).
            cap_add=["ALL"], cap_drop=["SYS_RESOURCE"],
            security_opt=["seccomp=unconfined", "apparmor=unconfined"],
            # The engine's containers' cgroups nest in its own, and go with it.
            cgroupns="private",
            volumes={str(socket_dir): {"bind": "/run/engine", "mode": "rw"}}, environment={"SOCKET_GID": os.getgid()},
            ports={f"{STACK_PORT}/tcp": ("127.0.0.1", None)})
        try:
            engine_host = f"unix://{socket_dir}/docker.sock"
            while not _answers(engine_host):
                container.reload()
                assert container.status == "running", container.logs(tail=20).decode()
                assert time.monotonic() - start < timeout, f"engine not answering after {timeout} s"
                time.sleep(0.2)
            started = time.monotonic()
            save = subprocess.Popen(["docker", "save", *stack_images()], stdout=subprocess.PIPE)
            subprocess.run(["docker", "--host", engine_host, "load", "--quiet"], stdin=save.stdout, check=True,
                           capture_output=True, timeout=600)
            save.stdout.close()
            assert save.wait(timeout=60) == 0, "docker save failed"
            container.reload()
            port = int(container.ports[f"{STACK_PORT}/tcp"][0]["HostPort"])
            yield Engine(engine_host, port, started - start, time.monotonic() - started)
        finally:
            # Stopped first, so that dockerd removes its containers' network namespaces and cgroups itself.
            container.stop(timeout=30)
            container.remove(v=True)
    finally:
        network.remove()


def _answers(engine_host):
    try:
        docker.DockerClient(base_url=engine_host).close()  # asks the engine its API version
        return True
    except docker.errors.DockerException:
        return False


@contextlib.contextmanager
def running_swarm_stack(secrets_dir, engine, prefix="dc-test-swarm"):
    """A stack of its own (<prefix>-<random>) on Docker Swarm in the given engine, the balancer routing to REPLICAS
    replicas: deployed by scripts/swarm-up, removed by scripts/swarm-down (which also leaves the swarm swarm-up
    created)."""
    stack = f"{prefix}-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DOCKER_HOST": engine.host,
        "STACK": stack,
        "SECRETS_DIR": str(secrets_dir),
        # The Swarm stack's secrets are the swarm's; the engine has no project volume (scripts/secrets).
        "SECRETS_VOLUME": "",
        "HTTP_PORT": str(STACK_PORT),
        "WAS_REPLICAS": str(REPLICAS),
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "BACKEND_TIMEOUT": "10",
        **UNLIMITED_CLIENTS,
    }
    subprocess.run([ROOT / "scripts" / "secrets"], check=True, env=env)
    try:
        subprocess.run([ROOT / "scripts" / "swarm-up"], check=True, env=env, timeout=300)
        stack_cluster = SwarmCluster(stack, f"http://127.0.0.1:{engine.stack_port}", engine.host)
        stack_cluster.wait_members(REPLICAS)
        yield stack_cluster
    finally:
        subprocess.run([ROOT / "scripts" / "swarm-down"], check=True, env=env, timeout=300)
