"""A bounded chaos run: clients doing mixed work while replicas are killed, restarted and scaled 2<->4.

Every request is recorded; afterwards every write that got a 2xx/3xx is looked for in MariaDB (and its
image in the bucket), every session is checked, and every failed request must have been in flight on a
replica at the moment it was SIGKILLed (Apache cannot retry a request it already sent).
"""
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

from .cluster import Outcome, browser_request, served_by
from .pictures import picture

# A sign-up lost at a SIGKILL is tried again, so many times within so many seconds at most.
SIGN_UP_ATTEMPTS = 10
SIGN_UP_SECONDS = 30


@dataclass
class Chaos:
    cluster: object
    seconds: float
    clients: int = 16
    records: list = field(default_factory=list)
    events: list = field(default_factory=list)  # (time, what, replica)
    kill_windows: list = field(default_factory=list)  # (signal sent, replica dead) per SIGKILL
    comments: list = field(default_factory=list)  # bodies of comments that got a 2xx/3xx
    captions: list = field(default_factory=list)  # captions of posts that got a 2xx/3xx
    users: dict = field(default_factory=dict)  # username -> session
    retries: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()
        self._deadline = time.monotonic() + self.seconds

    def _send(self, session, action, method, path, expected=(), **kwargs):
        started = time.monotonic()
        try:
            response, retried = browser_request(session, method, self.cluster.url(path), timeout=60,
                                                allow_redirects=False, **kwargs)
            record = Outcome(started, time.monotonic(), response.status_code, served_by(response), action=action,
                             expected=response.status_code in expected)
        except requests.RequestException as exc:
            response, retried = None, False
            record = Outcome(started, time.monotonic(), None, error=f"{type(exc).__name__}: {exc}"[:200], action=action)
        with self._lock:
            self.records.append(record)
            self.retries += retried
        return response if record.ok else None

    def _post(self, session, action, path, data=None, **kwargs):
        data = dict(data or {}, csrfmiddlewaretoken=session.cookies.get("csrftoken", ""))
        return self._send(session, action, "POST", path, data=data, headers={"Referer": self.cluster.url("/")}, **kwargs)

    def _client(self, number):
        session = requests.Session()
        rng = random.Random(number)
        username = f"chaos-{number}-{uuid.uuid4().hex[:6]}"
        # Nothing like the username: Django refuses passwords too similar to it.
        password = "Tr0ub4dor-staple-91"
        if not self._sign_up(session, username, password):
            return
        with self._lock:
            self.users[username] = session
        post_ids = []
        while time.monotonic() < self._deadline:
            roll = rng.random()
            if roll < 0.45:
                page = self._send(session, "browse", "GET", "/")
                if page is not None:
                    post_ids = [int(i) for i in re.findall(r'id="post-(\d+)"', page.text)]
            elif roll < 0.6:
                self._send(session, "whoami", "GET", "/whoami")
            elif roll < 0.75 and post_ids:
                self._post(session, "like", f"/posts/{rng.choice(post_ids)}/like")
            elif roll < 0.9 and post_ids:
                body = f"chaos comment {uuid.uuid4().hex}"
                if self._post(session, "comment", f"/posts/{rng.choice(post_ids)}/comments", {"body": body}) is not None:
                    with self._lock:
                        self.comments.append(body)
            else:
                caption = f"chaos post {uuid.uuid4().hex}"
                files = {"image": ("chaos.jpg", picture("JPEG", (160, 120), seed=rng.random()))}
                if self._post(session, "upload", "/posts/new", {"caption": caption}, files=files) is not None:
                    with self._lock:
                        self.captions.append(caption)
            time.sleep(rng.uniform(0.02, 0.2))

    def _sign_up(self, session, username, password):
        """Signs up as a person would: a sign-up lost at a SIGKILL is sent again from a fresh form, and if the
        lost one had created the account (the username is taken), logs in instead. True once logged in."""
        form = {"username": username, "password1": password, "password2": password}
        deadline = time.monotonic() + SIGN_UP_SECONDS
        for _ in range(SIGN_UP_ATTEMPTS):
            if self._send(session, "browse", "GET", "/signup") is not None:
                response = self._post(session, "sign up", "/signup", form, expected=(400,))
                if response is not None and response.status_code == 400 and "already exists" in response.text:
                    response = self._post(session, "log in", "/login", {"username": username, "password": password})
                if response is not None and response.status_code == 302:
                    return True
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        return False

    def _monkey(self):
        """Every few seconds, one fault: SIGKILL, graceful restart, scale up to 4 or back down to 2."""
        rng = random.Random(7)
        faults = ["kill", "scale 4", "restart", "scale 2", "kill", "scale 2"]
        i = 0
        while time.monotonic() < self._deadline - 8:
            time.sleep(rng.uniform(3, 5))
            fault = faults[i % len(faults)]
            i += 1
            replicas = self.cluster.replicas()
            if fault == "kill":
                name = rng.choice(sorted(replicas))
                self.events.append((time.monotonic(), "kill", name))
                replicas[name].kill()
                # A SIGKILL takes effect over an interval, from the signal to the container's death.
                replicas[name].wait(timeout=10)
                self.kill_windows.append((self.events[-1][0], time.monotonic()))
            elif fault == "restart":
                name = rng.choice(sorted(replicas))
                self.events.append((time.monotonic(), "restart", name))
                replicas[name].restart(timeout=30)
            else:
                n = int(fault.split()[1])
                self.events.append((time.monotonic(), fault, None))
                self.cluster.resize(n)

    def run(self):
        threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(self.clients)]
        threads.append(threading.Thread(target=self._monkey, daemon=True))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(self.seconds + 120)
        return self

    def unexplained_failures(self):
        """Failed requests that were not in flight at a SIGKILL (between the signal and the replica's death)."""
        return [r for r in self.records if not r.ok
                and not any(r.started <= dead and killed <= r.ended for killed, dead in self.kill_windows)]

    def report(self):
        failed = [r for r in self.records if not r.ok]
        unexplained = [(r.action, r.status, r.error) for r in self.unexplained_failures()]
        return (f"chaos {self.seconds:.0f} s, {self.clients} clients: {len(self.records)} requests, "
                f"{len(failed)} failed ({len(failed) - len(self.unexplained_failures())} in flight at a SIGKILL), "
                f"{self.retries} resent after a kept-alive connection closed, "
                f"{sum(r.action == 'sign up' for r in self.records) - self.clients} sign-ups sent again; "
                f"writes: {len(self.captions)} posts, {len(self.comments)} comments; "
                f"faults: {[(round(t - self.records[0].started, 1), what) for t, what, _ in self.events]}; "
                f"unexplained failures: {unexplained}")
