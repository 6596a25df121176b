"""Hardened parts: Redis wants its password, sessions are stored in it as JSON (an entry pickled by an earlier
release is a miss, not a 500), every container's log rotates, and `make scale` never asks MariaDB for more
connections than it has."""
import json
import pickle
import subprocess

from harness.cluster import REPLICAS, ROOT
from harness.users import Visitor

REDIS_CLIENT = "import redis, sys; r = redis.Redis(host='redis', password=sys.argv[1] or None, socket_timeout=2); "


def in_replica(cluster, script, *args):
    """Python in a replica (inside the stack, beside Redis), with the replica's own packages."""
    container = next(iter(cluster.replicas().values()))
    result = container.exec_run(["python", "-c", script, *args])
    return result.exit_code, result.output.decode()


def redis_password(cluster):
    return cluster.exec("redis", "cat /run/secrets/redis_password").strip()


def test_redis_refuses_a_client_without_the_password(cluster):
    code, output = in_replica(cluster, REDIS_CLIENT + "r.ping()", "")
    assert code != 0 and "AuthenticationError" in output, output
    code, output = in_replica(cluster, REDIS_CLIENT + "r.set('x', '1'); print(r.get('x'))", "wrong-" + "0" * 58)
    assert code != 0 and "AuthenticationError" in output, output
    code, output = in_replica(cluster, REDIS_CLIENT + "print(r.ping())", redis_password(cluster))
    assert (code, output.strip()) == (0, "True"), output


def session_key(visitor):
    return f":1:django.contrib.sessions.cached_db{visitor.session.cookies['sessionid']}"


def test_a_session_is_stored_in_redis_as_json(cluster):
    visitor = Visitor(cluster).sign_up("json-session")
    code, output = in_replica(cluster, REDIS_CLIENT + "sys.stdout.write(r.get(sys.argv[2]).decode())",
                              redis_password(cluster), session_key(visitor))
    assert code == 0, output
    assert json.loads(output)["_auth_user_id"]


def test_a_session_pickled_by_an_earlier_release_is_read_from_the_database_and_stored_anew_as_json(cluster):
    visitor = Visitor(cluster).sign_up("pickled-session")
    user = visitor.user()
    pickled = pickle.dumps({"_auth_user_id": "0"}).hex()  # whatever it says, it is not trusted: a miss
    code, output = in_replica(cluster, REDIS_CLIENT + "r.set(sys.argv[2], bytes.fromhex(sys.argv[3]))",
                              redis_password(cluster), session_key(visitor), pickled)
    assert code == 0, output
    response = visitor.get("/whoami")
    assert response.status_code == 200 and response.json()["user"] == user
    code, output = in_replica(cluster, REDIS_CLIENT + "sys.stdout.write(r.get(sys.argv[2]).decode())",
                              redis_password(cluster), session_key(visitor))
    assert code == 0 and json.loads(output)["_auth_user_id"] != "0", output


def test_every_container_s_log_rotates(cluster):
    containers = cluster.docker.containers.list(all=True, filters={"label": f"com.docker.compose.project={cluster.project}"})
    assert {c.labels["com.docker.compose.service"] for c in containers} >= {"apache", "was", "init", "db", "redis", "gcs"}
    for container in containers:
        assert container.attrs["HostConfig"]["LogConfig"] == {
            "Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}, container.name


def make_scale(cluster, replicas):
    return subprocess.run(["make", "scale", f"WAS={replicas}"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=cluster.environment())


def test_scale_beyond_mariadb_s_connections_is_refused_in_one_sentence_and_the_largest_allowed_fits(cluster, replicas):
    workers, threads = 2, 4  # compose.yaml's defaults
    max_connections = int(cluster.sql("SELECT @@max_connections"))
    refused = make_scale(cluster, 13)
    assert refused.returncode != 0
    lines = [line for line in refused.stderr.splitlines() if line.startswith("scale:")]
    assert len(lines) == 1 and "ask for at most 12" in lines[0] and "Traceback" not in refused.stderr, refused.stderr
    assert len(cluster.replicas()) == REPLICAS
    # 12 replicas during a deploy (twice as many), every thread and health check with its connection.
    assert 2 * 12 * workers * (threads + 1) + 10 <= max_connections
