"""Deleting a post (feed/views.py, feed/media.py): its author only; row, likes and comments in one transaction,
then, once it commits, the image from the bucket (in-memory storage here) and from Apache's cache (a local HTTP
server standing in for its purge port); a failure leaves a record that a later removal or the command retries.
Whatever deletes a post (the admin, an account's deletion) does the same. And the quota."""
import http.server
import io
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import InMemoryStorage, default_storage
from django.core.management import call_command
from PIL import Image

from feed import media, replica
from feed.models import Comment, Like, OrphanImage, Post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    cache.clear()  # no rate limit left by another test
    monkeypatch.setattr(replica, "identity", lambda: ("django-clustering-was-1", "1"))


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs what waits for the transaction's commit (the tests run inside one that never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def author(client):
    user = get_user_model().objects.create_user("author")
    client.force_login(user)
    return user


def make_post(author, data=b"image bytes"):
    name = default_storage.save("posts/photo.jpg", ContentFile(data))
    post = Post.objects.create(author=author, caption="mine", image=name, width=4, height=3, size=len(data))
    reader = get_user_model().objects.get_or_create(username="reader")[0]
    Like.objects.create(user=reader, post=post)
    Comment.objects.create(post=post, author=reader, body="nice")
    return post


class Purges(list):
    status = 204


@pytest.fixture
def apache(settings):
    """A purge port: records the paths POSTed to it, answers 204 (or its .status)."""
    purged = Purges()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            purged.append(self.path)
            self.send_response(purged.status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.MEDIA_CACHE_PURGE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    yield purged
    server.shutdown()
    server.server_close()


def test_the_author_deletes_a_post_its_likes_comments_object_and_cached_copy(client, author, apache, committed):
    post = make_post(author)
    with committed():
        response = client.post(f"/posts/{post.pk}/delete", {"next": "/?page=2"})
    assert (response.status_code, response["Location"]) == (302, "/?page=2")
    assert not Post.objects.exists() and not Like.objects.exists() and not Comment.objects.exists()
    assert not default_storage.exists(post.image.name)
    assert apache == [f"/media/{post.image.name}"]
    assert not OrphanImage.objects.exists()


def test_the_delete_button_is_on_the_authors_posts_only(client, author):
    mine = make_post(author)
    other = Post.objects.create(author=get_user_model().objects.create_user("other"), image="posts/o.jpg",
                                width=1, height=1)
    page = client.get("/").content.decode()
    assert f'action="/posts/{mine.pk}/delete"' in page and f'action="/posts/{other.pk}/delete"' not in page


def test_someone_elses_post_is_a_404_and_nothing_changes(client, author):
    post = make_post(get_user_model().objects.create_user("other"))
    assert client.post(f"/posts/{post.pk}/delete").status_code == 404
    assert Post.objects.count() == 1 and Like.objects.count() == 1 and Comment.objects.count() == 1
    assert default_storage.exists(post.image.name) and not OrphanImage.objects.exists()


def test_deleting_takes_a_post_request_from_a_signed_in_user(client, author):
    post = make_post(author)
    assert client.get(f"/posts/{post.pk}/delete").status_code == 405
    client.logout()
    assert client.post(f"/posts/{post.pk}/delete")["Location"].startswith("/login")
    assert Post.objects.count() == 1


def test_a_bucket_that_fails_leaves_no_post_and_a_record_that_the_next_deletion_finishes(
        client, author, apache, monkeypatch, committed):
    first = make_post(author)

    def unreachable(storage, name):
        raise ConnectionError("bucket unreachable")
    monkeypatch.setattr(InMemoryStorage, "delete", unreachable)
    with committed():
        assert client.post(f"/posts/{first.pk}/delete").status_code == 302
    assert not Post.objects.filter(pk=first.pk).exists()
    assert list(OrphanImage.objects.values_list("name", flat=True)) == [first.image.name]

    monkeypatch.undo()
    second = make_post(author)
    with committed():
        assert client.post(f"/posts/{second.pk}/delete").status_code == 302
    assert not OrphanImage.objects.exists()
    assert not default_storage.exists(first.image.name) and not default_storage.exists(second.image.name)
    assert sorted(apache) == sorted([f"/media/{first.image.name}", f"/media/{second.image.name}"])


def test_an_apache_that_cannot_be_told_keeps_the_record(client, author, settings, committed):
    settings.MEDIA_CACHE_PURGE_URL = "http://127.0.0.1:9"  # nothing listens there
    post = make_post(author)
    with committed():
        assert client.post(f"/posts/{post.pk}/delete").status_code == 302
    assert not default_storage.exists(post.image.name)
    assert OrphanImage.objects.filter(name=post.image.name).exists()


@pytest.mark.parametrize("deletion", ["post", "account"])
def test_a_post_deleted_otherwise_also_loses_its_image(author, apache, committed, deletion):
    post = make_post(author)
    with committed():
        (post if deletion == "post" else author).delete()
    assert not Post.objects.exists() and not OrphanImage.objects.exists()
    assert not default_storage.exists(post.image.name) and apache == [f"/media/{post.image.name}"]


def test_nothing_is_removed_before_the_deletion_commits(author, apache):
    post = make_post(author)
    post.delete()  # inside the test's transaction, never committed
    assert default_storage.exists(post.image.name) and apache == []
    assert OrphanImage.objects.filter(name=post.image.name).exists()


def test_the_command_removes_what_failures_left(apache):
    name = default_storage.save("posts/left.jpg", ContentFile(b"x"))
    OrphanImage.objects.create(name=name)
    OrphanImage.objects.create(name="posts/already-gone.jpg")
    call_command("remove_orphan_images")
    assert not OrphanImage.objects.exists() and not default_storage.exists(name)
    assert apache == [f"/media/{name}", "/media/posts/already-gone.jpg"]


def test_a_purge_answered_with_an_error_is_a_failure(apache):
    apache.status = 403
    with pytest.raises(OSError, match="answered 403 to the purge of /media/posts/x.jpg"):
        media.purge_cache("posts/x.jpg")


def test_a_post_past_the_quota_is_refused_with_403_and_stores_nothing(client, author, settings):
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    make_post(author, b"x" * 100)
    settings.UPLOAD_QUOTA_BYTES = 100 + len(out.getvalue()) - 1
    out.name = "photo.png"
    out.seek(0)
    response = client.post("/posts/new", {"caption": "one too many", "image": out})
    assert response.status_code == 403 and "Delete a post to make room" in response.content.decode()
    assert Post.objects.count() == 1
    settings.UPLOAD_QUOTA_BYTES += 1
    out.seek(0)
    assert client.post("/posts/new", {"caption": "fits", "image": out}).status_code == 302
    assert Post.objects.get(caption="fits").size == len(out.getvalue())
