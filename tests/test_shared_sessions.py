"""One login, whichever replica answers: sessions live in Redis, written through to MariaDB."""
import time
import uuid

import pytest

from harness.users import Visitor

pytestmark = pytest.mark.swarm


@pytest.fixture
def member(cluster, replicas):
    return Visitor(cluster).sign_up(f"user-{uuid.uuid4().hex[:8]}")


def test_login_is_seen_by_every_replica_and_logout_by_every_replica(cluster, member):
    name = member.user()
    routes = cluster.routes()
    for replica, route in routes.items():
        member.pin(route)
        assert member.get("/whoami").json() == {"user": name, "served_by": replica, "route": route}

    member.pin(sorted(routes.values())[0])
    member.log_out()
    for route in routes.values():
        member.pin(route)
        assert member.user() is None, f"still logged in on route {route} after logging out"


def test_login_survives_the_death_of_the_pinned_replica(cluster, replicas, member):
    body = member.get("/whoami").json()
    replicas[body["served_by"]].kill()
    after = member.get("/whoami").json()
    assert after["served_by"] != body["served_by"]
    assert after["user"] == body["user"]


def test_login_survives_a_redis_restart(cluster, member):
    name = member.user()
    cluster.service("redis").restart()
    cluster.wait_healthy("redis")
    assert member.user() == name
    assert member.get("/").status_code == 200


def test_login_and_pages_survive_redis_being_down(cluster, member):
    name = member.user()
    redis = cluster.service("redis")
    redis.stop()
    try:
        for route in cluster.routes().values():
            member.pin(route)
            assert member.user() == name
            page = member.get("/")
            assert page.status_code == 200 and name in page.text
        # New logins work too, straight from the database.
        other = Visitor(cluster).sign_up(f"user-{uuid.uuid4().hex[:8]}")
        assert other.user() is not None
    finally:
        redis.start()
        cluster.wait_healthy("redis")
    time.sleep(0.5)
    assert member.user() == name
