"""compose.swarm.yaml stays compose.yaml's stack: the same services, images, settings, secrets and log rotation (it repeats
them, as `docker stack deploy` can't read compose.yaml)."""
import json
import subprocess

from harness.cluster import ROOT

# Settings only the Swarm stack has (see compose.swarm.yaml), and those it sets otherwise.
SWARM_ONLY = {"REPLICA_NAME", "RES_OPTIONS"}
SWARM_VALUES = {"apache": {"WAS_SERVICE_HOST": "tasks.was"}}


def services(file):
    return json.loads(subprocess.run(["docker", "compose", "-f", file, "config", "--format", "json"], cwd=ROOT,
                                     check=True, capture_output=True, text=True).stdout)["services"]


def test_the_swarm_stack_runs_the_compose_services_with_the_same_images_settings_secrets_and_log_rotation():
    compose, swarm = services("compose.yaml"), services("compose.swarm.yaml")
    assert set(swarm) == set(compose)  # test-only services have profiles, not active here
    for name, service in swarm.items():
        assert service["image"] == compose[name]["image"], name
        environment = {key: value for key, value in service.get("environment", {}).items() if key not in SWARM_ONLY}
        assert environment == {**compose[name].get("environment", {}), **SWARM_VALUES.get(name, {})}, name
        assert service.get("secrets") == compose[name].get("secrets"), name
        assert service["logging"] == compose[name]["logging"], name
