"""apache/entrypoint: the settings it derives for Apache's configuration from the environment, and how it tells
that a gracefully stopping Apache is done (its children gone, or no client connected)."""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest


@pytest.fixture
def derived(sourced):
    """derived(**env) -> (APACHE_MAX_BODY_BYTES, BACKEND_REUSE) as export_settings sets them under env."""
    def run(**env):
        result = sourced("entrypoint", 'export_settings; echo "$APACHE_MAX_BODY_BYTES $BACKEND_REUSE"', **env)
        assert result.returncode == 0, result.stderr
        return tuple(result.stdout.split())
    return run


def test_by_default_bodies_up_to_10_mib_plus_the_multipart_envelope_and_connections_reused_for_4_s(derived):
    assert derived() == (str(10 * 1024 * 1024 + 65536), "ttl=4")


def test_the_body_limit_follows_the_apps_upload_limit(derived):
    assert derived(UPLOAD_MAX_BYTES="1048576")[0] == str(1048576 + 65536)


@pytest.mark.parametrize(("ttl", "reuse"), [("2", "ttl=2"), ("0", "disablereuse=On")])
def test_backend_keepalive_ttl_sets_the_reuse_time_and_0_turns_reuse_off(derived, ttl, reuse):
    assert derived(BACKEND_KEEPALIVE_TTL=ttl)[1] == reuse


@pytest.fixture
def parent():
    """A process with one child that exits at once and is never reaped (a zombie), and another that lives
    until told: yields (parent pid, the live child's pid)."""
    script = "import os, sys, time\nif not os.fork(): os._exit(0)\nchild = os.fork()\n" \
             "if not child: time.sleep(30); os._exit(0)\nprint(child, flush=True)\ntime.sleep(30)\n"
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(process.stdout.readline())
    yield process.pid, child
    process.kill()
    process.wait()


def has_children(sourced, pid):
    result = sourced("entrypoint", 'if has_children "$1"; then echo yes; else echo no; fi', str(pid))
    assert result.returncode == 0 and not result.stderr, result.stderr
    return result.stdout.strip() == "yes"


def test_a_process_has_children_while_a_child_lives_and_an_unreaped_one_does_not_count(sourced, parent):
    pid, child = parent
    assert has_children(sourced, pid)
    os.kill(child, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while has_children(sourced, pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not has_children(sourced, pid)


def test_a_client_counts_as_connected_to_a_served_port_while_its_connection_is_open(sourced):
    snippet = 'if connected "$1"; then echo yes; else echo no; fi'
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = f"{server.getsockname()[1]:04X}"
        assert sourced("entrypoint", snippet, port).stdout.strip() == "no"
        with socket.create_connection(server.getsockname()):
            assert sourced("entrypoint", snippet, port).stdout.strip() == "yes"
