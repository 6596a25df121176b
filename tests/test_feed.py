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


def test_an_author_deletes_a_post_and_its_row_likes_comments_and_image_go_even_from_apaches_cache(cluster, replicas):
    author = Visitor(cluster).sign_up(f"deleter-{uuid.uuid4().hex[:8]}")
    assert author.upload(picture(seed=21), caption="to be deleted").status_code == 302
    post_id = re.search(r'id="post-(\d+)"', author.get("/").text).group(1)
    image = author.feed_images()[0]
    reader = Visitor(cluster).sign_up(f"reader-{uuid.uuid4().hex[:8]}")
    assert reader.post(f"/posts/{post_id}/like").status_code == 302
    assert reader.post(f"/posts/{post_id}/comments", {"body": "soon gone"}).status_code == 302
    # Fetched twice: the second answer comes from Apache's cache (mod_cache adds Age to what it serves).
    assert [reader.get(image).status_code for _ in range(2)] == [200, 200]
    assert "Age" in reader.get(image).headers
    # Someone else's post: not found, and nothing changes.
    assert f'action="/posts/{post_id}/delete"' not in reader.get("/").text
    assert reader.post(f"/posts/{post_id}/delete").status_code == 404
    assert cluster.sql(f"SELECT COUNT(*) FROM feed_post WHERE id = {post_id}") == "1"

    author.pin(sorted(cluster.routes().values())[-1])
    assert f'action="/posts/{post_id}/delete"' in author.get("/").text
    response = author.post(f"/posts/{post_id}/delete", {"next": "/"})
    assert (response.status_code, response.headers["Location"]) == (302, "/")
    assert "Your post was deleted." in author.get("/").text
    for table in ("feed_post WHERE id", "feed_like WHERE post_id", "feed_comment WHERE post_id"):
        assert cluster.sql(f"SELECT COUNT(*) FROM {table} = {post_id}") == "0", table
    assert image.removeprefix("/") not in cluster.bucket_objects()
    assert cluster.sql("SELECT COUNT(*) FROM feed_orphanimage") == "0"
    for visitor in (reader, author, Visitor(cluster)):
        assert visitor.get(image).status_code == 404
