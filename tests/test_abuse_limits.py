"""The abuse limits through Apache, at their defaults, from a client address of the test's own: each is answered
with the 429 page and Retry-After by every replica (the counts live in Redis), a forged X-Forwarded-For or
X-Real-IP changes nothing, and with Redis stopped nothing is limited.

The suite's stack exempts the private networks (harness/cluster.py), where every other test's clients are: they
sign up and post far more than a person. Here the host sends from its address on a network of the test's own
with a subnet outside them (Cluster.client_network), so the limits apply as shipped, on the same stack."""
import itertools
import re
import time
import uuid

import pytest

from harness.pictures import picture
from harness.users import Visitor

# compose.yaml's defaults: the count each limit allows per hour.
SIGNUPS, GUESTS, LOGINS, FAILURES_PER_USERNAME, POSTS_PER_USER, COMMENTS_PER_USER = 10, 10, 60, 20, 30, 120
POSTS_PER_ADDRESS, COMMENTS_PER_ADDRESS = 60, 240
REDIS_RETRY_SECONDS = 5


@pytest.fixture
def elsewhere(cluster):
    """The stack as a visitor at an address of its own sees it."""
    with cluster.client_network() as handle:
        yield handle


def alternate(visitor, routes):
    """Pins the visitor to each replica in turn, one request each."""
    for route in itertools.cycle(routes):
        visitor.pin(route)
        yield


def assert_refused_by_every_replica(visitor, routes, send, what):
    """`send()` past the limit, pinned to each replica: each answers with the 429 page and Retry-After."""
    answered_by = set()
    for route in routes:
        visitor.pin(route)
        response = send()
        assert response.status_code == 429, (route, response.status_code, response.text[:300])
        assert 0 < int(response.headers["Retry-After"]) <= 3600
        assert response.headers["Content-Type"].startswith("text/html") and f"Too many {what}" in response.text
        answered_by.add(response.headers["X-Served-By"])
    assert len(answered_by) == len(routes) > 1


def exhaust(visitor, routes, count, send, expected):
    """`count` requests alternating between the replicas, each answered `expected`: the limit's allowance."""
    turns = alternate(visitor, routes)
    for _ in range(count):
        next(turns)
        assert send().status_code == expected


def sign_up_invalid(visitor):
    """A sign-up refused by the form (cheap: no password is hashed); it counts all the same."""
    return visitor.post("/signup", {"username": "x", "password1": "a", "password2": "b"})


@pytest.mark.parametrize(("what", "count", "send", "expected"), [
    ("sign-ups", SIGNUPS, sign_up_invalid, 400),
    ("guest accounts", GUESTS, lambda v: v.post("/guest"), 302),
    ("log-in attempts", LOGINS, lambda v: v.post("/login", {"username": "nobody", "password": ""}), 200),
], ids=["sign-up", "guest", "log-in"])
def test_each_limit_per_address_is_answered_429_by_every_replica(cluster, replicas, elsewhere, what, count, send,
                                                                   expected):
    routes = sorted(cluster.routes().values())
    visitor = Visitor(elsewhere)
    exhaust(visitor, routes, count, lambda: send(visitor), expected)
    assert_refused_by_every_replica(visitor, routes, lambda: send(visitor), what)
    # The suite's own address is another, with a count of its own.
    assert send(Visitor(cluster)).status_code == expected


def test_failed_log_ins_are_limited_per_username_even_with_the_right_password(cluster, replicas, elsewhere):
    routes = sorted(cluster.routes().values())
    username, password = f"target-{uuid.uuid4().hex[:8]}", "correct-horse-battery-9"
    Visitor(cluster).sign_up(username, password).log_out()
    guesser = Visitor(elsewhere)
    exhaust(guesser, routes, FAILURES_PER_USERNAME,
            lambda: guesser.post("/login", {"username": username, "password": "guess"}), 200)
    # Past the failures, the right password too: otherwise the answer would tell a right guess.
    assert_refused_by_every_replica(guesser, routes, lambda: guesser.post("/login", {"username": username,
                                                                                     "password": password}),
                                    "log-in attempts")


@pytest.mark.parametrize(("what", "count"), [("posts", POSTS_PER_USER), ("comments", COMMENTS_PER_USER)])
def test_posts_and_comments_are_limited_per_user(cluster, replicas, elsewhere, what, count):
    routes = sorted(cluster.routes().values())
    author = Visitor(elsewhere).sign_up(f"limited-{uuid.uuid4().hex[:8]}")
    assert author.upload(picture(seed=7)).status_code == 302
    post_id = re.search(r'id="post-(\d+)"', author.get("/").text).group(1)
    # An empty image or comment is refused by the form (cheap), and counts all the same.
    if what == "posts":
        def send():
            return author.upload(b"")
    else:
        def send():
            return author.post(f"/posts/{post_id}/comments", {"body": ""})
    exhaust(author, routes, count - (what == "posts"), send, 400)
    assert_refused_by_every_replica(author, routes, send, what)
    # Another user at the same address has a count of their own.
    other = Visitor(elsewhere).sign_up(f"other-{uuid.uuid4().hex[:8]}")
    assert other.upload(picture(seed=8)).status_code == 302


@pytest.mark.parametrize(("what", "per_user", "per_address"), [("posts", POSTS_PER_USER, POSTS_PER_ADDRESS),
                                                              ("comments", COMMENTS_PER_USER, COMMENTS_PER_ADDRESS)])
def test_posts_and_comments_are_limited_per_address_across_its_users(cluster, replicas, elsewhere, what, per_user,
                                                                    per_address):
    routes = sorted(cluster.routes().values())
    # A post to comment on, from the suite's own address.
    owner = Visitor(cluster).sign_up(f"owner-{uuid.uuid4().hex[:8]}")
    assert owner.upload(picture(seed=9)).status_code == 302
    post_id = re.search(r'id="post-(\d+)"', owner.get("/").text).group(1)
    # Enough users at one address that each stays within its own limit and together they reach the address's.
    users = [Visitor(elsewhere).sign_up(f"neighbour-{uuid.uuid4().hex[:8]}") for _ in range(per_address // per_user + 1)]

    def send(user):  # refused by the form (cheap), counted all the same
        return user.upload(b"") if what == "posts" else user.post(f"/posts/{post_id}/comments", {"body": ""})

    for user in users[:-1]:
        exhaust(user, routes, per_user, lambda u=user: send(u), 400)
    last = users[-1]
    assert_refused_by_every_replica(last, routes, lambda: send(last), what)


def test_a_forged_x_forwarded_for_or_x_real_ip_changes_nothing(cluster, replicas, elsewhere):
    routes = sorted(cluster.routes().values())
    visitor = Visitor(elsewhere)
    exhaust(visitor, routes, GUESTS, lambda: visitor.post("/guest"), 302)
    # Addresses the stack exempts, and one it has never seen: Apache overwrites X-Real-IP with the
    # connection's, and the app never reads X-Forwarded-For.
    for forged in ("192.168.0.1", "10.1.2.3", "203.0.113.9"):
        forged_headers = {"X-Forwarded-For": forged, "X-Real-IP": forged}
        assert_refused_by_every_replica(visitor, routes, lambda h=forged_headers: visitor.post("/guest", headers=h),
                                        "guest accounts")


def test_with_redis_stopped_nothing_is_limited_and_the_limits_hold_again_once_it_is_back(cluster, replicas,
                                                                                        elsewhere):
    routes = sorted(cluster.routes().values())
    visitor = Visitor(elsewhere)
    exhaust(visitor, routes, GUESTS, lambda: visitor.post("/guest"), 302)
    assert_refused_by_every_replica(visitor, routes, lambda: visitor.post("/guest"), "guest accounts")
    redis = cluster.service("redis")
    redis.stop()
    try:
        exhaust(visitor, routes, 4, lambda: visitor.post("/guest"), 302)
    finally:
        redis.start()
        cluster.wait_healthy("redis")
    # Back, the limits hold again, every replica refusing. The counts may start again first, even more than
    # once: each process that noticed Redis was away empties it at its first call after its breaker's wait
    # (feed/cache.py), whenever Apache's pooled connections bring it one.
    time.sleep(REDIS_RETRY_SECONDS + 1)
    answers = []
    for _ in zip(range(5 * (GUESTS + 1)), alternate(visitor, routes), strict=False):  # bounded by the range
        response = visitor.post("/guest")
        answers.append((response.status_code, response.headers["X-Served-By"]))
        if len(answers) >= len(routes) and {status for status, _ in answers[-len(routes):]} == {429}:
            break
    last = answers[-len(routes):]
    assert {status for status, _ in last} == {429} and len({who for _, who in last}) == len(routes), answers
    assert {status for status, _ in answers} <= {302, 429}, answers
