"""A stack beside the suite, as a user's `make up` is: two containers on a bridge network of their own, one
answering HTTP, the other reaching it by name through Docker's DNS (127.0.0.11)."""
import contextlib
import time
import uuid
from dataclasses import dataclass

import docker

from .engine import tag


@dataclass
class Canary:
    client: docker.models.containers.Container
    server: str
    host_swarm_state: str  # the host engine's LocalNodeState when the canary started

    def reach(self):
        """The client resolves the server's name and fetches a page from it: (exit code, output)."""
        result = self.client.exec_run(["sh", "-c", f"getent hosts {self.server} && curl -fsS --max-time 5 "
                                       f"-o /dev/null -w 'HTTP %{{http_code}}' http://{self.server}:8000/"])
        return result.exit_code, result.output.decode()


@contextlib.contextmanager
def running_canary(timeout=30):
    """Starts the canary, answering, and yields it; removes it at the end."""
    host = docker.from_env()
    name = f"dc-test-canary-{uuid.uuid4().hex[:8]}"
    network = host.networks.create(name)
    containers = []
    try:
        # The Django image has python3 and curl; its health check (of gunicorn) means nothing here.
        for role, command in (("server", ["python3", "-m", "http.server", "-d", "/tmp", "8000"]),
                              ("client", ["sleep", "infinity"])):
            containers.append(host.containers.run(f"django-clustering/was:{tag()}", command, name=f"{name}-{role}",
                                                  network=name, detach=True, healthcheck={"test": ["NONE"]}))
        canary = Canary(containers[1], containers[0].name, host.info()["Swarm"]["LocalNodeState"])
        start = time.monotonic()
        while (outcome := canary.reach())[0] != 0:
            assert time.monotonic() - start < timeout, f"canary not answering after {timeout} s: {outcome[1]}"
            time.sleep(0.5)
        yield canary
    finally:
        for container in containers:
            container.remove(force=True)
        network.remove()
