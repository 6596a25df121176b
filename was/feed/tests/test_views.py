"""feed/views.py's like and comment, through Django's test client: each returns the user to the feed page its
form was on, never to another site, and a comment that is not valid gets its form back with the error, in a
page, and stores nothing. A new post stores the checked image, and waits its turn to be checked."""
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from feed import images, replica
from feed.models import Comment, Like, Post

pytestmark = pytest.mark.django_db

LIKE = ("like", {})
COMMENT = ("comments", {"body": "nice photo"})


@pytest.fixture(autouse=True)
def named_replica(monkeypatch):
    """Every page's footer names its replica: a fixed name here, no DNS lookup."""
    monkeypatch.setattr(replica, "identity", lambda: ("django-clustering-was-1", "1"))


@pytest.fixture
def post():
    author = get_user_model().objects.create_user("author")
    return Post.objects.create(author=author, caption="a photo", image="posts/0123abcd.jpg", width=4, height=3)


@pytest.fixture
def reader(client):
    client.force_login(get_user_model().objects.create_user("reader"))
    return client


def send(client, post_id, action, **fields):
    path, form = action
    return client.post(f"/posts/{post_id}/{path}", {**form, **fields})


def test_the_feeds_like_and_comment_forms_send_the_page_they_are_on(reader, post):
    page = reader.get("/?page=1").content.decode()
    assert page.count('<input type="hidden" name="next" value="/?page=1">') == 2


def test_a_like_returns_to_the_post_on_the_page_it_was_sent_from(reader, post):
    response = send(reader, post.pk, LIKE, next="/?page=3")
    assert (response.status_code, response["Location"]) == (302, f"/?page=3#post-{post.pk}")
    assert Like.objects.filter(post=post).count() == 1


def test_a_comment_returns_to_the_post_on_the_page_it_was_sent_from(reader, post):
    response = send(reader, post.pk, COMMENT, next="/?page=3")
    assert (response.status_code, response["Location"]) == (302, f"/?page=3#post-{post.pk}")
    assert list(Comment.objects.values_list("body", flat=True)) == ["nice photo"]


def test_the_page_is_returned_to_at_the_post_sent_about_not_at_a_fragment_in_next(reader, post):
    assert send(reader, post.pk, LIKE, next="/?page=2#post-999")["Location"] == f"/?page=2#post-{post.pk}"


@pytest.mark.parametrize("action", [LIKE, COMMENT], ids=["like", "comment"])
@pytest.mark.parametrize("fields", [
    {}, {"next": ""}, {"next": "https://elsewhere.example/"}, {"next": "//elsewhere.example/"},
    {"next": "/\\elsewhere.example/"}, {"next": "javascript:alert(1)"},
], ids=["no-next", "empty", "other-site", "scheme-relative", "backslash", "javascript"])
def test_without_a_next_on_this_site_the_user_returns_to_the_post_on_the_first_page(reader, post, action, fields):
    response = send(reader, post.pk, action, **fields)
    assert (response.status_code, response["Location"]) == (302, f"/#post-{post.pk}")


@pytest.mark.parametrize(("body", "error"), [
    ("", "This field is required."),
    ("   ", "This field is required."),
    ("x" * 501, "Ensure this value has at most 500 characters (it has 501)."),
], ids=["empty", "blank", "too-long"])
def test_an_invalid_comment_gets_a_400_page_with_the_error_and_the_way_back_and_stores_nothing(
        reader, post, body, error):
    response = send(reader, post.pk, COMMENT, body=body, next="/?page=2")
    page = response.content.decode()
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    assert f'<ul class="errorlist" id="id_body_error"><li>{error}</li></ul>' in page
    # The form again, still returning to the page it came from, and a link back to the post.
    assert '<input type="hidden" name="next" value="/?page=2">' in page
    assert f'<a href="/?page=2#post-{post.pk}">Back to the post</a>' in page
    assert not Comment.objects.exists()


@pytest.mark.parametrize("action", [LIKE, COMMENT], ids=["like", "comment"])
def test_a_like_or_comment_on_a_missing_post_is_a_404_and_stores_nothing(reader, post, action):
    assert send(reader, post.pk + 1, action).status_code == 404
    assert not Like.objects.exists() and not Comment.objects.exists()


@pytest.mark.parametrize("action", [LIKE, COMMENT], ids=["like", "comment"])
def test_an_anonymous_like_or_comment_is_sent_to_log_in_and_stores_nothing(client, post, action):
    assert send(client, post.pk, action)["Location"].startswith("/login")
    assert not Like.objects.exists() and not Comment.objects.exists()


def jpeg_with_gps():
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (37.0, 33.0, 58.0)})
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, "JPEG", exif=exif)
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_a_post_stores_the_checked_image_without_its_metadata_under_a_jpg_name(reader):
    assert reader.post("/posts/new", {"caption": "here", "image": jpeg_with_gps()}).status_code == 302
    post = Post.objects.get()
    assert post.image.name.endswith(".jpg") and (post.width, post.height) == (64, 48)
    with default_storage.open(post.image.name) as stored, Image.open(stored) as image:
        assert image.format == "JPEG" and not image.getexif()


def test_an_upload_that_finds_every_decode_slot_taken_gets_a_503_to_retry_and_stores_nothing(reader, settings):
    settings.UPLOAD_DECODE_WAIT_SECONDS = 0.1
    with images._decodes:
        response = reader.post("/posts/new", {"caption": "later", "image": jpeg_with_gps()})
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "Please try again" in response.content.decode()
    assert not Post.objects.exists()
