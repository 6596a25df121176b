"""feed/middleware.py's queue deadline: past capacity, a request that waited too long for a thread is answered
at once with a 503, never with work whose client has likely given up."""
import time

import pytest
from django.test import RequestFactory, override_settings

from feed.middleware import QueueDeadlineMiddleware, queued_for


def served(request):
    return "served"


def stamp(seconds_ago):
    return f"t={int((time.time() - seconds_ago) * 1e6)}"


@pytest.fixture
def deadline():
    with override_settings(REQUEST_QUEUE_SECONDS=10):
        yield QueueDeadlineMiddleware(served)


def test_a_request_that_waited_past_the_deadline_gets_a_503_with_retry_after(deadline):
    response = deadline(RequestFactory().get("/", HTTP_X_REQUEST_START=stamp(11)))
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert b"busier than it can serve" in response.content


def test_a_request_within_the_deadline_is_served(deadline):
    assert deadline(RequestFactory().get("/", HTTP_X_REQUEST_START=stamp(9))) == "served"


def test_a_request_with_a_body_is_served_however_long_apache_took_to_read_it(deadline):
    request = RequestFactory().post("/posts/new", {"caption": "x"}, HTTP_X_REQUEST_START=stamp(60))
    assert deadline(request) == "served"


@pytest.mark.parametrize("header", ["", "t=", "t=soon", "1234", "t=-5"])
def test_a_missing_or_unreadable_stamp_counts_as_no_wait(deadline, header):
    assert deadline(RequestFactory().get("/", HTTP_X_REQUEST_START=header)) == "served"


def test_queued_for_reads_apaches_microsecond_stamp():
    assert queued_for("t=1000000000000000", 1000000002.5) == 2.5


def test_a_stamp_from_a_clock_ahead_counts_as_no_wait():
    assert queued_for("t=1000000010000000", 1000000000.0) == 0.0


@override_settings(APP_VERSION="abc123")
def test_every_response_and_the_probe_answer_say_which_version_made_them(client):
    assert client.get("/livez").json()["version"] == "abc123"
    assert client.get("/no-such-page")["X-App-Version"] == "abc123"
