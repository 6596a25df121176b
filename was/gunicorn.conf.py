"""gunicorn settings, from the environment (see .env.example)."""
import os

import probe

bind = "0.0.0.0:8000"
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "0") == "1" else None
errorlog = "-"
worker_tmp_dir = "/dev/shm"
# No runtime control socket: nothing uses it, and /app is not writable.
control_socket_disable = True


def post_request(worker, req, environ, resp):
    # The probe's evidence that gunicorn serves while every thread is busy (probe.py).
    probe.request_finished()
