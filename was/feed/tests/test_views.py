"""feed/views.py's like and comment, through Django's test client: each returns the user to the feed page its
form was on, never to another site, and a comment that is not valid gets its form back with the error, in a
page, and stores nothing."""
import pytest
from django.contrib.auth import get_user_model

from feed import replica
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
