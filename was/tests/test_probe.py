"""probe.py: the probe port's verdict on gunicorn (ready, stalled, draining, dead), from what its self-probe
saw and when; and /readyz served over HTTP."""
import http.client
import json
import os
import pathlib
import subprocess
import threading
import time
from http.server import ThreadingHTTPServer

import pytest

from probe import Gunicorn, handler

DISCOVER_MEMBERS = str(pathlib.Path(__file__).resolve().parents[2] / "apache" / "discover-members")
IDENTITY = {"served_by": "django-clustering-was-2", "route": "2"}


@pytest.fixture
def gunicorn(tmp_path):
    """Stalled after 10 s of silence, dead after 60 s; started at t=1000 (monotonic seconds)."""
    gunicorn = Gunicorn(stall_seconds=10, liveness_seconds=60, drain_flag=str(tmp_path / "draining"),
                        progress_file=str(tmp_path / "finished"))
    gunicorn.started = 1000.0
    return gunicorn


def finished_a_request(gunicorn, seconds_ago=0):
    """As gunicorn's post_request hook marks it, that long ago on the wall clock."""
    pathlib.Path(gunicorn.progress_file).touch()
    then = time.time() - seconds_ago
    os.utime(gunicorn.progress_file, (then, then))


def test_not_ready_until_gunicorn_first_answers(gunicorn):
    assert gunicorn.readiness(1001) == (503, {"ready": False, "serving": False, "draining": False})


def test_ready_while_gunicorn_answered_within_the_stall_time_with_its_identity(gunicorn):
    gunicorn.saw(IDENTITY, 1005)
    assert gunicorn.readiness(1014.9) == (200, {"ready": True, "serving": True, "draining": False, **IDENTITY})


def test_not_ready_once_gunicorn_is_silent_for_the_stall_time(gunicorn):
    gunicorn.saw(IDENTITY, 1005)
    status, body = gunicorn.readiness(1015)
    assert (status, body["ready"], body["serving"]) == (503, False, False)


def test_not_ready_while_draining_though_serving(gunicorn, tmp_path):
    gunicorn.saw(IDENTITY, 1005)
    (tmp_path / "draining").touch()
    status, body = gunicorn.readiness(1006)
    assert (status, body["ready"], body["serving"], body["draining"]) == (503, False, True, True)


def test_serving_and_alive_while_gunicorn_finishes_requests_though_livez_waits_behind_them(gunicorn):
    gunicorn.saw(IDENTITY, 1005)
    finished_a_request(gunicorn, seconds_ago=9)
    assert gunicorn.readiness(1100) == (200, {"ready": True, "serving": True, "draining": False, **IDENTITY})
    assert gunicorn.alive(1100)
    finished_a_request(gunicorn, seconds_ago=10)
    assert gunicorn.readiness(1100)[0] == 503


def test_finished_requests_do_not_make_a_gunicorn_that_never_answered_ready(gunicorn):
    finished_a_request(gunicorn)
    assert gunicorn.readiness(1001)[0] == 503


def test_alive_until_silent_for_the_liveness_time_counted_from_start_if_it_never_answered(gunicorn):
    assert gunicorn.alive(1059.9)
    assert not gunicorn.alive(1060)
    gunicorn.saw(IDENTITY, 1050)
    assert gunicorn.alive(1109.9)
    assert not gunicorn.alive(1110)


@pytest.fixture
def probe_port(tmp_path):
    """The probe's HTTP server on a free loopback port, for a gunicorn that has just answered."""
    gunicorn = Gunicorn(stall_seconds=10, liveness_seconds=60, drain_flag=str(tmp_path / "draining"),
                        progress_file=str(tmp_path / "finished"))
    gunicorn.saw(IDENTITY, gunicorn.started)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(gunicorn))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def get(port, path):
    """(status, Content-Type, body) of GET path, straight to the port (no proxy from the environment)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), json.loads(response.read())
    finally:
        connection.close()


def test_readyz_answers_the_verdict_as_json(probe_port):
    assert get(probe_port, "/readyz") == (200, "application/json",
                                          {"ready": True, "serving": True, "draining": False, **IDENTITY})


def test_any_other_path_is_404(probe_port):
    assert get(probe_port, "/healthz")[0] == 404


def test_discovery_reads_the_probes_answer_as_ready_with_the_route(probe_port):
    """The contract between this port and apache/discover-members, which reads it with bash alone."""
    result = subprocess.run(["bash", "-c", 'source "$SCRIPT"; probe_all 127.0.0.1'], capture_output=True, text=True,
                            timeout=10,
                            env={"PATH": os.environ["PATH"], "SCRIPT": DISCOVER_MEMBERS, "PROBE_PORT": str(probe_port)})
    assert result.stdout == "127.0.0.1 ready 2\n", result.stderr
