"""feed/limits.py: counts per client address, per user and per username tried, in fixed windows of Django's
cache (a local one here, Redis on a replica); past a limit a 429 page with Retry-After; with Redis away, no
limit. Driven through Django's test client, as a browser would, and directly for the windows."""
import ipaddress

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import RequestFactory

from feed import limits, replica
from feed.models import Comment, Post

pytestmark = pytest.mark.django_db

SIGNUP = {"username": "newcomer", "password1": "correct-horse-battery-9", "password2": "correct-horse-battery-9"}


@pytest.fixture(autouse=True)
def fresh(monkeypatch, settings):
    """Every test starts with no counts, limits of its own, and a named replica (no DNS lookup)."""
    cache.clear()
    monkeypatch.setattr(replica, "identity", lambda: ("django-clustering-was-1", "1"))
    settings.RATE_LIMITS = {
        "signup": {"address": (2, 3600)},
        "guest": {"address": (2, 3600)},
        "login": {"address": (5, 3600), "username": (2, 3600)},
        "post": {"address": (6, 3600), "user": (2, 3600)},
        "comment": {"address": (4, 3600), "user": (2, 3600)},
    }
    settings.RATE_LIMIT_EXEMPT = []
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast: these tests hash many


@pytest.fixture
def post():
    author = get_user_model().objects.create_user("author")
    return Post.objects.create(author=author, caption="a photo", image="posts/0123abcd.jpg", width=4, height=3)


def from_address(client, address):
    """The client's requests as Apache forwards them from `address`."""
    client.defaults["HTTP_X_REAL_IP"] = address
    return client


def signed_in(client, name, address="198.51.100.7"):
    client.force_login(get_user_model().objects.get_or_create(username=name)[0])
    return from_address(client, address)


def assert_too_many(response, what):
    page = response.content.decode()
    assert response.status_code == 429 and response["Content-Type"].startswith("text/html")
    assert 0 < int(response["Retry-After"]) <= 3600
    assert f"Too many {what}" in page and "Please try again in" in page


def test_sign_ups_past_the_limit_per_address_get_a_429_page_with_retry_after_and_create_nothing(client):
    from_address(client, "198.51.100.7")
    for i in range(2):
        assert client.post("/signup", {**SIGNUP, "username": f"newcomer{i}"}).status_code == 302
        client.logout()
    assert_too_many(client.post("/signup", {**SIGNUP, "username": "newcomer2"}), "sign-ups")
    assert not get_user_model().objects.filter(username="newcomer2").exists()


def test_refused_attempts_count_too(client):
    from_address(client, "198.51.100.7")
    for _ in range(2):
        assert client.post("/signup", {**SIGNUP, "password2": "mismatch"}).status_code == 400
    assert_too_many(client.post("/signup", SIGNUP), "sign-ups")


def test_another_address_has_a_count_of_its_own(client):
    from_address(client, "198.51.100.7")
    for _ in range(3):
        client.post("/guest")
    assert client.post("/guest").status_code == 429
    assert from_address(client, "198.51.100.8").post("/guest").status_code == 302


def test_a_forged_x_forwarded_for_changes_nothing(client):
    """Apache sets X-Real-IP from the connection; X-Forwarded-For starts with whatever the client sent."""
    from_address(client, "198.51.100.7")
    for _ in range(2):
        assert client.post("/guest").status_code == 302
    assert client.post("/guest", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429


def test_guest_accounts_past_the_limit_get_the_429_page(client):
    from_address(client, "198.51.100.7")
    for _ in range(2):
        client.post("/guest")
    assert_too_many(client.post("/guest"), "guest accounts")
    assert get_user_model().objects.count() == 2


def test_log_in_attempts_are_limited_per_address(client):
    from_address(client, "198.51.100.7")
    for i in range(5):
        assert client.post("/login", {"username": f"nobody{i}", "password": "wrong"}).status_code == 200
    assert_too_many(client.post("/login", {"username": "nobody", "password": "wrong"}), "log-in attempts")


def test_failed_log_ins_are_limited_per_username_from_any_address_even_with_the_right_password(client):
    get_user_model().objects.create_user("alice", password="correct-horse-battery-9")
    for i in range(2):
        from_address(client, f"198.51.100.{i}").post("/login", {"username": "alice", "password": "guess"})
    right = from_address(client, "198.51.100.99").post("/login", {"username": "alice",
                                                                   "password": "correct-horse-battery-9"})
    assert_too_many(right, "log-in attempts")
    assert "_auth_user_id" not in client.session
    # Another account is not affected, and a successful log-in does not count as a failure.
    get_user_model().objects.create_user("bob", password="correct-horse-battery-9")
    for _ in range(3):
        assert client.post("/login", {"username": "bob", "password": "correct-horse-battery-9"}).status_code == 302


def test_the_admins_log_in_counts_as_a_log_in(client):
    from_address(client, "198.51.100.7")
    for _ in range(5):
        client.post("/admin/login/", {"username": "admin", "password": "guess"})
    assert client.post("/admin/login/", {"username": "admin", "password": "guess"}).status_code == 429


def test_posts_are_limited_per_user_and_per_address(client):
    for name in ("first", "second"):
        signed_in(client, name)
        for _ in range(2):
            assert client.post("/posts/new", {"caption": "no image"}).status_code == 400
        assert_too_many(client.post("/posts/new", {"caption": "no image"}), "posts")
    # Both users' posts came from one address: past its limit, a third user there is refused too.
    assert signed_in(client, "third").post("/posts/new", {"caption": "no image"}).status_code == 429
    assert signed_in(client, "fourth", "198.51.100.8").post("/posts/new", {"caption": "x"}).status_code == 400


def test_comments_are_limited_per_user(client, post):
    signed_in(client, "reader")
    for i in range(2):
        assert client.post(f"/posts/{post.pk}/comments", {"body": f"comment {i}"}).status_code == 302
    assert_too_many(client.post(f"/posts/{post.pk}/comments", {"body": "one too many"}), "comments")
    assert Comment.objects.count() == 2


def test_reading_pages_is_never_limited(client, post):
    signed_in(client, "reader")
    for _ in range(10):
        assert client.get("/").status_code == 200
        assert client.get("/login").status_code == 200


def test_a_limit_set_off_is_not_counted(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "guest": {"address": None}}
    from_address(client, "198.51.100.7")
    for _ in range(5):
        assert client.post("/guest").status_code == 302


def test_an_exempt_address_is_never_limited(client, settings):
    settings.RATE_LIMIT_EXEMPT = [ipaddress.ip_network("198.51.100.0/24")]
    from_address(client, "198.51.100.7")
    for _ in range(5):
        assert client.post("/guest").status_code == 302
    assert from_address(client, "203.0.113.9").post("/guest").status_code == 302


def test_redis_away_nothing_is_limited(client, monkeypatch):
    """django-redis with IGNORE_EXCEPTIONS (and the breaker open) answers None to add and incr: fail open."""
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: None)
    monkeypatch.setattr(cache, "incr", lambda *args, **kwargs: None)
    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: None)
    from_address(client, "198.51.100.7")
    for _ in range(5):
        assert client.post("/guest").status_code == 302


def test_a_window_ends_at_a_multiple_of_its_period_and_retry_after_says_when():
    rate = (1, 600)
    assert limits.hit("guest", "address", "a", rate, now=1200.0) is None
    assert limits.hit("guest", "address", "a", rate, now=1500.0) == 300.0
    assert limits.hit("guest", "address", "a", rate, now=1800.0) is None  # a new window


def test_reached_peeks_without_counting():
    rate = (1, 60)
    assert limits.reached("login", "username", "x", rate, now=0.0) is None
    limits.hit("login", "username", "x", rate, now=0.0)
    assert limits.reached("login", "username", "x", rate, now=30.0) == 30.0
    assert limits.reached("login", "username", "x", rate, now=30.0) == 30.0


@pytest.mark.parametrize(("header", "remote", "address"), [
    ("203.0.113.9", "10.0.0.2", "203.0.113.9"),
    (None, "10.0.0.2", "10.0.0.2"),
    ("2001:db8:1:2:3:4:5:6", "10.0.0.2", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.9", "10.0.0.2", "203.0.113.9"),
])
def test_the_client_address_is_apaches_x_real_ip_and_an_ipv6_client_counts_as_its_64(header, remote, address):
    extra = {"HTTP_X_REAL_IP": header} if header else {}
    request = RequestFactory().post("/guest", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR="192.0.2.1", **extra)
    assert limits.client_address(request) == address
