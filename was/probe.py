"""The replica's probe port (PROBE_PORT, 8001): readiness that request traffic can never starve.

gunicorn's threads may all be busy (a burst) or held (a slow client): a health check queued behind them
times out, and a healthy replica leaves the balancer. This process answers on a port of its own, from its
own threads, and judges gunicorn by what it does: it asks gunicorn for /livez every second and remembers
when gunicorn last answered, and gunicorn marks every request it finishes (request_finished, gunicorn.conf.py),
so that a replica whose every thread is busy serving (uploads waiting their turn to decode, say) is seen
serving even while /livez waits in the queue behind them.

GET /readyz is the one definition of a live replica, for Apache's discovery and for Docker's and Swarm's
healthchecks: 200 while gunicorn answered or finished a request within REPLICA_STALL_SECONDS and the replica
is not draining, 503 otherwise; the body says which, and gives the replica's balancer route. Shared
dependencies (MariaDB, Redis, the bucket) are not part of it: every replica would fail alike, and dropping
them all helps nobody.

When gunicorn has neither answered nor finished a request for REPLICA_LIVENESS_SECONDS, this process exits and
was/start with it, so that the container's restart policy brings the replica back (Compose never restarts an
unhealthy container).
"""
import contextlib
import json
import logging
import os
import pathlib
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from config import env

log = logging.getLogger("probe")
# Touched by gunicorn at the end of every request (tmpfs: no disk write per request).
PROGRESS_FILE = env.string("PROGRESS_FILE", "/dev/shm/requests-finished")


def request_finished():
    """gunicorn's post_request hook calls this, whatever the request's answer."""
    pathlib.Path(PROGRESS_FILE).touch()


class Gunicorn:
    """What the self-probe last saw of gunicorn: when it answered, and who it said it is; and when gunicorn last
    finished a request."""

    def __init__(self, stall_seconds, liveness_seconds, drain_flag, progress_file=PROGRESS_FILE):
        self.stall_seconds = stall_seconds
        self.liveness_seconds = liveness_seconds
        self.drain_flag = drain_flag
        self.progress_file = progress_file
        self.started = time.monotonic()
        self.answered = None  # time.monotonic() of the last answer
        self.identity = {}  # {"served_by": ..., "route": ...}

    def saw(self, identity, now):
        self.identity, self.answered = identity, now

    def silent_for(self, now):
        last = self.answered if self.answered is not None else self.started
        with contextlib.suppress(OSError):
            # The file's age on the wall clock, placed on the monotonic one.
            last = max(last, now - (time.time() - os.stat(self.progress_file).st_mtime))
        return now - last

    def readiness(self, now):
        """(HTTP status, body) of /readyz."""
        serving = self.answered is not None and self.silent_for(now) < self.stall_seconds
        draining = os.path.exists(self.drain_flag)
        ready = serving and not draining
        body = {"ready": ready, "serving": serving, "draining": draining, **self.identity}
        return (200 if ready else 503), body

    def alive(self, now):
        return self.silent_for(now) < self.liveness_seconds


def watch(gunicorn, url, timeout):
    """Asks gunicorn for /livez every second, for the life of the process."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                gunicorn.saw(json.load(response), time.monotonic())
        except (OSError, ValueError):
            pass  # the answer's absence is the finding: see Gunicorn.readiness
        time.sleep(1)


def handler(gunicorn):
    class Probe(BaseHTTPRequestHandler):
        def do_GET(self):
            status, body = gunicorn.readiness(time.monotonic()) if self.path == "/readyz" else (404, {})
            payload = json.dumps(body).encode()
            # A prober that gave up waiting (a busy host) has gone: nobody to answer, nothing to report.
            with contextlib.suppress(ConnectionError):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        def log_message(self, *args):
            pass  # a probe every second from discovery and Docker: not worth a log line

    return Probe


def main():
    logging.basicConfig(level=logging.INFO, format="probe: %(message)s")
    stall = env.number("REPLICA_STALL_SECONDS", 10)
    gunicorn = Gunicorn(stall, env.number("REPLICA_LIVENESS_SECONDS", 60), env.string("DRAIN_FLAG", "/tmp/draining"))
    threading.Thread(target=watch, args=(gunicorn, "http://127.0.0.1:8000/livez", stall), daemon=True).start()
    server = ThreadingHTTPServer(("0.0.0.0", env.integer("PROBE_PORT", 8001)), handler(gunicorn))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while gunicorn.alive(time.monotonic()):
        time.sleep(1)
    log.error("gunicorn has neither answered nor finished a request for %.0f s: exiting, so that the replica is "
              "restarted", gunicorn.silent_for(time.monotonic()))
    sys.exit(1)


if __name__ == "__main__":
    main()
