"""The app itself, through the balancer: pages linked from home, likes, comments, pagination."""
import re
import uuid

from harness.pictures import picture
from harness.users import Visitor


def test_sign_up_log_in_and_new_post_are_linked_from_the_home_page(cluster):
    anonymous = Visitor(cluster).get("/").text
    assert 'href="/signup"' in anonymous and 'href="/login"' in anonymous and 'action="/guest"' in anonymous
    guest = Visitor(cluster)
    assert guest.post("/guest").status_code == 302
    assert guest.user().startswith("guest-")
    assert 'href="/posts/new"' in guest.get("/").text


def test_a_like_and_a_comment_made_on_one_replica_show_on_every_replica(cluster, replicas):
    author = Visitor(cluster).sign_up(f"liker-{uuid.uuid4().hex[:8]}")
    assert author.upload(picture(seed=11), caption="like me").status_code == 302
    post_id = re.search(r'id="post-(\d+)"', author.get("/").text).group(1)
    routes = sorted(cluster.routes().values())

    author.pin(routes[0])
    assert author.post(f"/posts/{post_id}/like").status_code == 302
    comment = f"comment {uuid.uuid4().hex[:6]}"
    assert author.post(f"/posts/{post_id}/comments", {"body": comment}).status_code == 302
    for route in routes:
        author.pin(route)
        article = re.search(rf'id="post-{post_id}".*?</article>', author.get("/").text, re.S).group(0)
        assert "1 like<" in article and "♥ Unlike" in article and comment in article

    assert author.post(f"/posts/{post_id}/like").status_code == 302  # unlike
    assert "0 likes" in author.get("/").text
    assert author.post(f"/posts/{post_id}/comments", {"body": ""}).status_code == 400


def test_the_feed_is_newest_first_and_paginated(cluster):
    author = Visitor(cluster).sign_up(f"pager-{uuid.uuid4().hex[:8]}")
    for i in range(11):
        assert author.upload(picture(seed=100 + i), caption=f"page test {i}").status_code == 302
    first = author.get("/").text
    assert first.index("page test 10") < first.index("page test 9")
    assert 'href="?page=2"' in first and "page test 0" not in first
    assert "page test 0" in author.get("/?page=2").text


def test_anonymous_visitors_cannot_post_like_or_comment(cluster):
    visitor = Visitor(cluster)
    assert visitor.upload(picture()).headers["Location"].startswith("/login")
    assert visitor.post("/posts/1/like").headers["Location"].startswith("/login")
