"""Secrets travel with the data: a second checkout of the project (or a lost secrets folder) finds the ones its
data was created with, a mismatch is refused in one sentence before anything changes, and make rotate-secrets
changes the database password and Django's key under traffic with no failed request and nobody logged out."""
import os
import subprocess
import time
import uuid

import docker
import pytest

from harness.cluster import REPLICAS, ROOT, Traffic
from harness.users import Visitor

NAMES = ["db_password", "db_root_password", "django_secret_key", "redis_password"]


def run(script, secrets_dir, project, *args, **env):
    return subprocess.run([ROOT / "scripts" / script, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SECRETS_DIR": str(secrets_dir), "COMPOSE_PROJECT_NAME": project, **env})


def refused_in_one_sentence(result, *words):
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert all(word in lines[0] for word in words), lines[0]


@pytest.fixture
def contents():
    return lambda folder: {name: (folder / name).read_text() for name in NAMES}


def test_rotation_under_traffic_keeps_logged_in_clients_logged_in_with_no_failed_request(cluster, replicas):
    mounted = next(m["Source"] for m in cluster.service("db").attrs["Mounts"]
                   if m["Destination"] == "/run/secrets/db_password")
    folder = os.path.dirname(mounted)  # the suite's secrets_dir: this test runs before the second checkout's
    old_password = open(mounted).read().strip()
    old_key = open(os.path.join(folder, "django_secret_key")).read().split()[0]
    with Traffic(cluster, clients=6, users=4) as traffic:
        deadline = time.monotonic() + 60
        while len(traffic.outcomes) < 50 and time.monotonic() < deadline:  # every client signed up, browsing
            time.sleep(0.2)
        result = run("rotate-secrets", folder, cluster.project)
        time.sleep(3)
    assert result.returncode == 0, result.stdout + result.stderr
    print(f"{len(traffic.outcomes)} requests during the rotation, {traffic.retries} retried, "
          f"slowest {traffic.slowest():.2f} s")
    assert traffic.failures() == []
    new_key, previous = open(os.path.join(folder, "django_secret_key")).read().split()
    assert previous == old_key != new_key
    assert open(mounted).read().strip() != old_password
    # The old password is refused; new connections (a new replica's) get in with the new one.
    refused = cluster.service("db").exec_run(["sh", "-c", f"MYSQL_PWD={old_password} mariadb -udjango -e 'SELECT 1'"])
    assert refused.exit_code != 0 and b"Access denied" in refused.output
    cluster.scale(REPLICAS + 1)
    assert Visitor(cluster).sign_up(f"after-{uuid.uuid4().hex[:8]}").user()


def test_a_second_checkout_finds_the_data_s_secrets_and_starts_the_stack_with_everyone_still_logged_in(
        cluster, secrets_dir, tmp_path, contents):
    visitor = Visitor(cluster).sign_up(f"second-{uuid.uuid4().hex[:8]}")
    user = visitor.user()
    second = tmp_path / "second-checkout"
    result = run("secrets", second, cluster.project)
    assert result.returncode == 0, result.stderr
    assert contents(second) == contents(secrets_dir)
    cluster.env["SECRETS_DIR"] = str(second)  # put back below (same secrets in both)
    try:
        cluster.down_and_up()
        cluster.wait_members(REPLICAS)
    finally:
        cluster.env["SECRETS_DIR"] = str(secrets_dir)
    mounted = {m["Source"] for m in cluster.service("db").attrs["Mounts"] if m["Destination"].startswith("/run/secrets/")}
    assert mounted == {str(second / "db_password"), str(second / "db_root_password")}
    assert visitor.user() == user


def test_secrets_that_differ_from_the_data_s_are_refused_in_one_sentence_and_left_alone(cluster, tmp_path):
    other = tmp_path / "other-checkout"
    other.mkdir()
    (other / "db_password").write_text("0" * 64 + "\n")
    refused_in_one_sentence(run("secrets", other, cluster.project), "db_password", "move")
    assert [p.name for p in other.iterdir()] == ["db_password"]
    assert (other / "db_password").read_text() == "0" * 64 + "\n"


def test_a_database_whose_secrets_are_lost_is_refused_in_one_sentence_and_nothing_generated(tmp_path):
    project = f"dc-test-lost-{uuid.uuid4().hex[:8]}"
    host = docker.from_env()
    data = host.volumes.create(f"{project}_db-data", labels={"com.docker.compose.project": project,
                                                              "com.docker.compose.volume": "db-data"})
    try:
        refused_in_one_sentence(run("secrets", tmp_path / "lost", project), "make clean")
        assert not list((tmp_path / "lost").iterdir())
        assert not host.volumes.list(filters={"name": f"{project}_secrets"})
    finally:
        data.remove()


def test_init_against_a_database_created_with_other_secrets_says_so_in_one_sentence(cluster):
    result = subprocess.run(["docker", "compose", "run", "--rm", "--no-deps",
                             "-e", "DB_PASSWORD_FILE=", "-e", "DB_PASSWORD=" + "0" * 64, "init"],
                            cwd=ROOT, env=cluster.environment(), capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output and "MariaDB refuses db_password" in output, output
