"""Test stacks: starting one of its own (running_stack), and a handle on a running one: its URL, its replicas
(docker SDK) and its balancer."""
import contextlib
import io
import ipaddress
import json
import os
import pathlib
import random
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field

import docker
import requests

from .users import Visitor

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUCKET = "django-clustering"
# Replicas of a test stack.
REPLICAS = 2
PRIVATE_NETWORKS = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
# Every client of the suite and the bench comes from a private address (the host, as the front network's gateway,
# or a container) and signs up, logs in and posts far more than a person: on their stacks (Compose and Swarm) the
# abuse limits apply only to other addresses (tests/test_abuse_limits.py sends from one of its own), and the
# storage quota is lifted.
UNLIMITED_CLIENTS = {"RATE_LIMIT_EXEMPT": PRIVATE_NETWORKS, "UPLOAD_QUOTA_BYTES": str(2**40)}
# Client networks of the tests' own (client_network), outside PRIVATE_NETWORKS: RFC 2544's, for benchmarking.
CLIENT_SUBNETS = ipaddress.ip_network("198.18.0.0/15")


def tag():
    """The tag of the images the stacks run (TAG, as for `make build`)."""
    return os.environ.get("TAG") or "dev"


@contextlib.contextmanager
def running_stack(secrets_dir, files=("compose.yaml",), port=80, scheme="http", prefix="dc-test", **settings):
    """Starts a stack of its own (project <prefix>-<random>: never `make up`'s), healthy, the balancer routing
    to every replica, and yields its Cluster; removes it with its volumes at the end."""
    project = f"{prefix}-{uuid.uuid4().hex[:8]}"
    stack = Cluster(project, None, env={
        "COMPOSE_FILE": ":".join(files),
        "SECRETS_DIR": str(secrets_dir),
        "HTTP_PORT": "0",
        "HTTPS_PORT": "0",
        "WAS_REPLICAS": str(REPLICAS),
        # "apache": the name the browser test's Chromium uses on the front network.
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1,apache",
        # Requests caught on a killed or hung replica end sooner; nothing else depends on it.
        "BACKEND_TIMEOUT": "10",
        # A replica whose gunicorn stalls is restarted sooner (tests/test_replica_liveness.py).
        "REPLICA_LIVENESS_SECONDS": "20",
        # A request queued that long is refused sooner (tests/test_edge.py).
        "REQUEST_QUEUE_SECONDS": "5",
        **UNLIMITED_CLIENTS,
        # Apache's image stays TAG's when a deploy names another TAG for the app (build_version).
        "APACHE_TAG": tag(),
        **settings,
    })
    subprocess.run([ROOT / "scripts" / "secrets"], check=True, env=stack.environment())
    try:
        stack.compose("up", "-d", "--wait", timeout=600)
        subprocess.run([ROOT / "scripts" / "host-firewall", "on", project], check=True)
        stack.base_url = f"{scheme}://127.0.0.1:{stack.published_port(port)}"
        stack.wait_members(int(stack.env["WAS_REPLICAS"]))
        yield stack
    finally:
        stack.compose("down", "--volumes", timeout=300)
        subprocess.run([ROOT / "scripts" / "host-firewall", "off", project], check=True)


class Cluster:
    """A running stack: its Compose project, the settings and compose files it was started with (env: Compose's
    variables, COMPOSE_FILE among them, for every command run on it), and its URL."""

    def __init__(self, project, base_url, client=None, env=None, host=None):
        self.project = project
        self.base_url = base_url
        self.docker = client or docker.from_env()
        self.env = {**(env or {}), "COMPOSE_PROJECT_NAME": project}
        # The Host header its visitors send, when base_url's is not one the site answers to.
        self.host = host

    def environment(self, **settings):
        """The environment for a command run on this stack (docker compose, scripts/*, make): this process's,
        the stack's settings, then these."""
        return {**os.environ, **self.env, **settings}

    def url(self, path):
        return self.base_url + path

    def service(self, name):
        return self.containers(name)[0]

    def exec(self, service, command):
        """Runs a shell command in the service's container; returns its output (fails on non-zero exit)."""
        result = self.service(service).exec_run(["sh", "-c", command])
        assert result.exit_code == 0, result.output.decode()
        return result.output.decode()

    def sql(self, query):
        """One value from MariaDB, as root (its password is the stack's own secret)."""
        return self.exec("db", 'mariadb -uroot -p"$(cat /run/secrets/db_root_password)" django -N -B -e '
                         f'"{query}"').strip()

    def bucket_objects(self, prefix="media/"):
        """{name: md5 (base64)} of the objects in the bucket, read from the emulator's JSON API."""
        listing = json.loads(self.exec("gcs", f"curl -fsS 'http://127.0.0.1:4443/storage/v1/b/{BUCKET}/o?prefix={prefix}'"))
        return {item["name"]: item.get("md5Hash") for item in listing.get("items", [])}

    def stored(self):
        """What uploads leave behind: the number of posts and the bucket's objects (a refused one changes neither)."""
        return self.sql("SELECT COUNT(*) FROM feed_post"), self.bucket_objects()

    @staticmethod
    def healthz(replica):
        """A replica's own /healthz report (a dict), asked inside its container, bypassing the balancer."""
        return json.loads(replica.exec_run(["curl", "-s", "http://127.0.0.1:8000/healthz"]).output)

    def routes(self):
        """{replica name: its balancer route}, as each replica reports it."""
        return {name: self.healthz(container)["route"] for name, container in self.replicas().items()}

    def address(self, container, network="back"):
        """A container's address on one of the stack's networks ("back" or "front")."""
        return container.attrs["NetworkSettings"]["Networks"][f"{self.project}_{network}"]["IPAddress"]

    def wait_healthy(self, service_or_container, timeout=90):
        """Waits until the service's (first) container, or the given container, is healthy; returns when
        it was seen healthy (time.monotonic())."""
        container = self.service(service_or_container) if isinstance(service_or_container, str) else service_or_container
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            container.reload()
            if container.attrs["State"].get("Health", {}).get("Status") == "healthy":
                return time.monotonic()
            time.sleep(0.1)
        raise AssertionError(f"{container.name} not healthy after {timeout} s")

    def containers(self, service, **filters):
        labels = [f"com.docker.compose.project={self.project}", f"com.docker.compose.service={service}"]
        return self.docker.containers.list(filters={"label": labels, **filters})

    def replicas(self):
        """Running replicas of the Django service, by name."""
        return {c.name: c for c in self.containers("was")}

    def apache(self):
        return self.service("apache")

    def compose(self, *args, timeout=180, **settings):
        """`docker compose` on this stack (its project, files and settings, then these); returns its output."""
        result = subprocess.run(["docker", "compose", *args], cwd=ROOT, env=self.environment(**settings),
                                capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"docker compose {' '.join(args)}: {result.stderr[-2000:]}"
        return result.stdout

    def published_port(self, port=80):
        """The host port Apache's `port` is published on."""
        return int(self.compose("port", "apache", str(port)).strip().rsplit(":", 1)[1])

    def down_and_up(self):
        """`make down && make up` for this stack: containers go, volumes stay. The port may change."""
        self.compose("down")
        self.compose("up", "-d", "--wait", timeout=300)
        self.base_url = f"http://127.0.0.1:{self.published_port()}"

    def resize(self, n):
        """Resize the Django service; returns when the new replicas are healthy (the balancer may not route to
        them yet: scale() waits for that)."""
        self.compose("up", "-d", "--wait", "--no-deps", "--no-recreate", "--scale", f"was={n}", "was")

    def scale(self, n, timeout=60):
        """Resize the Django service as `make scale` does: returns once the balancer routes to exactly the n
        replicas, with the seconds that took after they were healthy."""
        self.resize(n)
        return self.wait_members(n, timeout)

    def build_version(self, version, service="was", run=None, **env):
        """An image of the service (the app, or apache) as shipped that reports another version (APP_VERSION) and
        has these environment variables, after a shell command `run` if given, tagged
        django-clustering/<service>:<version> (a tag of its own: `make up`'s images are never touched); returns
        the tag."""
        base = f"django-clustering/{service}:{self.environment().get('TAG', 'dev')}"
        lines = "".join(f"ENV {name}={value}\n" for name, value in {"APP_VERSION": version, **env}.items())
        dockerfile = f"FROM {base}\n{lines}" + (f"RUN {run}\n" if run else "")
        self.docker.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=f"django-clustering/{service}:{version}",
                                 rm=True)
        return version

    # The script behind `make deploy` for this kind of stack.
    DEPLOY = "deploy"

    def deploy(self, **settings):
        """scripts/deploy (`make deploy`; on Swarm scripts/swarm-deploy) on this stack, with these settings (TAG:
        the app's image to deploy, APACHE_TAG: Apache's)."""
        return subprocess.run([ROOT / "scripts" / self.DEPLOY], cwd=ROOT, env=self.environment(**settings),
                              capture_output=True, text=True, timeout=600)

    @contextlib.contextmanager
    def client_network(self):
        """A bridge network of the caller's own, joined by Apache, with a subnet from CLIENT_SUBNETS: the host's
        address on it is a client address of its own, as a visitor from elsewhere has. Yields a handle on this
        stack whose URL is Apache's address there; removed afterwards."""
        apache = self.apache()
        subnets = list(CLIENT_SUBNETS.subnets(new_prefix=24))
        for _ in range(5):  # a subnet another network holds: try another
            subnet = random.choice(subnets)
            try:
                # Internal: never Apache's gateway, which its published port follows (it would move).
                network = self.docker.networks.create(
                    f"{self.project}-client-{subnet.network_address}", internal=True,
                    ipam=docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=str(subnet))]))
                break
            except docker.errors.APIError as error:
                if "overlap" not in str(error):
                    raise
        else:
            raise AssertionError(f"no free /24 in {CLIENT_SUBNETS} after 5 tries")
        try:
            network.connect(apache)
            apache.reload()
            address = apache.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"]
            yield Cluster(self.project, f"http://{address}", self.docker, self.env, host="127.0.0.1")
        finally:
            network.disconnect(apache, force=True)
            network.remove()

    def members(self, service="apache"):
        """The balancer's members as Apache (or another service running it) sees them: {address: state}, a
        state such as "Init,Ok"."""
        lines = self.service(service).exec_run(["balancer-status", "--members"]).output.decode().splitlines()
        return dict(line.split() for line in lines if line.strip())

    def member_count(self):
        return len(self.members())

    def replica_addresses(self):
        return {self.address(c) for c in self.replicas().values()}

    def wait_served_by(self, name, timeout, since=None):
        """Sends cookie-less requests until the replica `name` answers one; returns the seconds since
        `since` (a time.monotonic(); default: the call)."""
        start = time.monotonic() if since is None else since
        while time.monotonic() - start < timeout:
            if requests.get(self.url("/whoami"), timeout=30).headers.get("X-Served-By") == name:
                return time.monotonic() - start
            time.sleep(0.05)
        raise AssertionError(f"{name} not routed to within {timeout} s")

    def watch_members(self, seconds):
        """The distinct member sets ({address: state}) the balancer had, looked at every 0.5 s for `seconds`."""
        seen = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            members = self.members()
            if members not in seen:
                seen.append(members)
            time.sleep(0.5)
        return seen

    def wait_members(self, n, timeout=60, service="apache"):
        """Waits until the balancer (of Apache, or another service running it) routes to exactly the n
        running replicas, every member in rotation, twice in a row 0.5 s apart (a reload may be under way);
        returns the seconds it took."""
        start = time.monotonic()
        settled = 0
        while time.monotonic() - start < timeout:
            members = self.members(service)
            # Err is Apache's own flag on a member whose last connect failed, retried by the next request
            # after retry=1 s: a replica restarted at the same address and route within one discovery cycle
            # keeps it until then, as no request passes here.
            ready = len(members) == n and set(members) == self.replica_addresses() and all(
                set(state.split(",")) <= {"Init", "Ok", "Err"} for state in members.values())
            settled = settled + 1 if ready else 0
            if settled == 2:
                return time.monotonic() - start
            time.sleep(0.5)
        raise AssertionError(f"balancer members {self.members(service)} after {timeout} s, "
                             f"wanted the {n} replicas {self.replica_addresses()}")


def signal_processes(container, pattern, signal):
    """Sends the signal to the container's processes whose command line contains `pattern` (no pgrep there)."""
    script = ('for p in /proc/[0-9]*; do [[ ${p#/proc/} != $$ && $(tr "\\0" " " <$p/cmdline 2>/dev/null) == '
              f'*{pattern}* ]] && kill -{signal} ${{p#/proc/}} 2>/dev/null; done; true')
    assert container.exec_run(["bash", "-c", script]).exit_code == 0


def memory_peak_mib(container):
    """The most memory the container has used since it started (its cgroup's peak, v2 or v1), in MiB."""
    command = "cat /sys/fs/cgroup/memory.peak 2>/dev/null || cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes"
    result = container.exec_run(["sh", "-c", command])
    assert result.exit_code == 0, result.output.decode()
    return int(result.output) / 2**20


def served_by(response):
    return response.headers.get("X-Served-By")


def browser_request(session, method, url, **kwargs):
    """A request as a browser sends it: when a kept-alive connection is closed before any response (Apache
    closes idle connections on a graceful reload), it is sent once more on a new connection; the server
    never saw it. Returns (response, retried)."""
    try:
        return session.request(method, url, **kwargs), False
    except requests.ConnectionError as exc:
        if "without response" not in str(exc) and "Connection reset" not in str(exc):
            raise
    return session.request(method, url, **kwargs), True


def browser_get(session, url, **kwargs):
    return browser_request(session, "GET", url, **kwargs)


@dataclass
class Outcome:
    """One request of any load generator (Traffic, Chaos, the bench's closed loop): ok when it got an answer
    below 400 (a redirect is an answer), or a 4xx the client asked for (a sign-up sent again: username taken)."""

    started: float
    ended: float
    status: int | None  # None: no HTTP response at all
    served_by: str | None = None
    error: str | None = None
    action: str = "GET"
    expected: bool = False
    client: int | None = None  # which of a Traffic's clients sent it

    @property
    def ok(self):
        return self.status is not None and (self.status < 400 or self.expected)

    @property
    def seconds(self):
        return self.ended - self.started

    @classmethod
    def from_loadgen(cls, row):
        """From bench/failover.py's [start, latency, status (0: none), error] rows."""
        start, latency, status, error = row
        return cls(start, start + latency, status or None, error=error or None)


@dataclass
class Traffic:
    """Several clients, each its own session (own ROUTEID), sending GETs until stopped (bounded)."""

    cluster: Cluster
    clients: int = 6
    path: str = "/whoami"
    max_seconds: float = 120
    timeout: float = 60
    # Of the clients, how many sign up first and must stay logged in: on /whoami, an answer that no longer
    # knows them counts as failed ("logged out").
    users: int = 0
    # A request whose kept-alive connection was closed before any response is sent again, once, as browsers
    # do (counted in retries); False: it fails, as every connection-level failure does.
    retry: bool = True
    outcomes: list = field(default_factory=list)
    retries: int = 0

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, args=(i, i < self.users), daemon=True)
                         for i in range(self.clients)]

    def _client(self, client, signed_up):
        visitor = Visitor(self.cluster)
        user = visitor.sign_up(f"traffic-{uuid.uuid4().hex[:8]}").user() if signed_up else None
        session = visitor.session
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            status, by, error = None, None, None
            try:
                if self.retry:
                    response, retried = browser_get(session, self.cluster.url(self.path), timeout=self.timeout)
                    self.retries += retried
                else:
                    response = session.get(self.cluster.url(self.path), timeout=self.timeout)
                status, by = response.status_code, served_by(response)
                if user and response.ok and response.json()["user"] != user:
                    status, error = None, "logged out"
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            with self._lock:
                self.outcomes.append(Outcome(started, time.monotonic(), status, by, error, client=client))
            time.sleep(0.02)

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)

    def failures(self):
        return [o for o in self.outcomes if not o.ok]

    def slowest(self):
        return max((o.seconds for o in self.outcomes), default=0.0)


class SwarmCluster(Cluster):
    """The same handle on a stack deployed on Docker Swarm (compose.swarm.yaml) in the engine at `engine` (a
    DOCKER_HOST): tasks' containers by their Swarm labels, replicas by the names they give themselves
    (<stack>_was.<slot>), resizing and deploys by Swarm."""

    DEPLOY = "swarm-deploy"

    def __init__(self, project, base_url, engine):
        # Commands run on it (scripts/*) reach its engine and find it as the stack STACK.
        super().__init__(project, base_url, docker.DockerClient(base_url=engine),
                         env={"DOCKER_HOST": engine, "STACK": project})
        self.engine = engine

    def containers(self, service, **filters):
        labels = [f"com.docker.stack.namespace={self.project}", f"com.docker.swarm.service.name={self.project}_{service}"]
        return self.docker.containers.list(filters={"label": labels, **filters})

    def service(self, name):
        return SwarmTask(self, f"{self.project}_{name}", self.containers(name)[0])

    def replicas(self):
        # A task's container is <stack>_was.<slot>.<task id>.
        return {c.name.rsplit(".", 1)[0]: c for c in self.containers("was")}

    def swarm(self, *args, timeout=180):
        subprocess.run(["docker", "--host", self.engine, "service", *args, "--detach=false"], check=True,
                       capture_output=True, timeout=timeout)

    def resize(self, n):
        # `docker service scale` waits 5 s to see the tasks stable even when there is nothing to do.
        if self.docker.services.get(f"{self.project}_was").attrs["Spec"]["Mode"]["Replicated"]["Replicas"] != n:
            self.swarm("scale", f"{self.project}_was={n}")


class SwarmTask:
    """A service's container whose stop, start and restart go through Swarm: behind its back, Swarm replaces
    a stopped container with a new task, and a restarted one runs beside that."""

    def __init__(self, cluster, service, container):
        self._cluster, self._service, self._container = cluster, service, container

    def __getattr__(self, name):
        return getattr(self._container, name)

    def stop(self):
        self._cluster.swarm("scale", f"{self._service}=0")

    def start(self):
        self._cluster.swarm("scale", f"{self._service}=1")

    def restart(self):
        self._cluster.swarm("update", "--force", self._service)
