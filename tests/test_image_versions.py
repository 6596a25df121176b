"""Every image built for the project carries its record of Debian versions, true to what is installed in it,
and meets every minimum its Dockerfile asks for today (docs/images.md, "Versions"): checked in the image by
base/apt-install's own verify, as the build did. Needs the images, not a stack."""
import json
import subprocess

import docker
import pytest

from dockerfiles import specs, stages
from harness.cluster import ROOT

HELPER = ROOT / "base" / "apt-install"


def built_images():
    """(image, Dockerfile) of every service that builds one, whatever its profile, as TAG names them."""
    config = json.loads(subprocess.run(["docker", "compose", "--profile", "*", "config", "--format", "json"],
                                       cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    return sorted({(service["image"], service["build"]["dockerfile"])
                   for service in config["services"].values() if "build" in service})


@pytest.mark.parametrize(("image", "dockerfile"), built_images())
def test_the_image_records_its_debian_versions_and_meets_every_minimum(image, dockerfile):
    client = docker.from_env()
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        pytest.skip(f"{image} is not built (`make test` builds every image)")
    wanted = specs(stages((ROOT / dockerfile).read_text())[-1])
    # A failed check exits non-zero with the helper's sentence in the output.
    container = client.containers.run(
        image, ["-c", 'source /usr/local/sbin/apt-install; verify "$@"; cat "$RECORD"', "bash", *wanted],
        entrypoint="bash", network_mode="none", detach=True,
        volumes={str(HELPER): {"bind": "/usr/local/sbin/apt-install", "mode": "ro"}})
    try:
        status = container.wait()["StatusCode"]
        record = container.logs().decode()
    finally:
        container.remove(v=True)  # with the anonymous volumes of images that declare one (remove=True leaves them)
    assert status == 0, record
    assert record.startswith("# Debian trixie, resolved "), record
    recorded = {line.split("=")[0] for line in record.splitlines() if not line.startswith("#")}
    assert {spec.split(">=")[0] for spec in wanted} <= recorded, record
