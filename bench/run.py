"""`make bench`: the balancer against talking to a replica directly and against HAProxy, throughput as
replicas are added, the cost of a replica killed under load, the media path, buffered request bodies, and
what clients see during a deploy (Compose, then Swarm in an engine of its own) and a scale-up with and
without a reload of Apache: side by side, in one run,
on a stack of its own (project dc-bench-<hex> unless --project-prefix says otherwise, removed with its volumes at the end). Load comes from the `loadgen`
container on the stack's own networks (wrk, and bench/failover.py); nothing leaves this machine.

Writes OUT/latest.json (figures), OUT/latest.png (plot) and OUT/latest.md (summary).
"""
import argparse
import concurrent.futures
import contextlib
import datetime
import io
import json
import math
import os
import pathlib
import platform
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid

import docker
import requests

from harness.cluster import ROOT, Outcome, Traffic, running_stack
from harness.engine import isolated_engine, running_swarm_stack
from harness.pictures import photo, picture
from harness.users import Visitor

# Photo posts in flight at once on the one replica: a replica decodes 2 at a time, and with 16 (as the feed has)
# the others queued in gunicorn's threads for 20 s and more on a busy 2-core host, its /livez with them, and the
# replica was restarted every 40 s: the bench measured restarts. 4 keep it busy without starving its checks.
UPLOAD_CONNECTIONS = 4
# The variant measured beside the shipped setting: a new backend connection per request, no reuse.
NO_REUSE = {"BACKEND_KEEPALIVE_TTL": "0"}

# The targets the project holds itself to; the summary marks each figure against its own.
TARGETS = {
    "overhead_ratio": (">=", 0.95),
    "apache_cpu_ms_per_request": ("<=", 0.25),
    "scaleout_3x_ratio": (">=", 2.8),
    "scaleout_max_share_deviation": ("<=", 0.05),
    "failover_errors": ("<=", 0),
    "failover_max_latency_ms": ("<=", 1000),
    "media_ratio": (">=", 0.9),
    "apache_vs_haproxy_ratio": (">=", 0.9),
    "buffering_feed_cost_ratio": (">=", 0.95),
    "deploy_failed": ("<=", 0),
    "swarm_deploy_failed": ("<=", 0),
    "scaleup_failed": ("<=", 0),
    "buffering_upload_cost_ratio": (">=", 0.95),
}


class Bench:
    def __init__(self, cluster, seconds, rounds, upload):
        self.cluster = cluster
        self.upload = upload
        self.seconds = seconds
        self.rounds = rounds
        self.loadgen = cluster.service("loadgen")
        self.idle_ns_per_s = {}
        self.idle_cpu_ms_per_s = {}  # by replica count: what each service burns with no traffic

    def wrk(self, url, connections, seconds=None, host="localhost", upload=None):
        """One wrk run from the loadgen container (POSTs of an upload from photo_upload() if given); its
        figures, plus the CPU each container used."""
        # Uploads run 3 s at least: 16 connections each sending 1.8 MiB may complete none within 1 s on a busy
        # 2-core machine, and a round with no request has no ratio.
        seconds = seconds or (max(self.seconds, 3) if upload else self.seconds)
        command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
                   "-s", "/opt/bench/wrk_report.lua", url]
        for header in ([f"Host: {host}"] if host else []) + (upload["headers"] if upload else []):
            command[1:1] = ["-H", header]
        before, started = self.cpu_ns(), time.monotonic()
        result = self.loadgen.exec_run(command, environment={"WRK_BODY_FILE": upload["file"] if upload else ""})
        elapsed, after = time.monotonic() - started, self.cpu_ns()
        output = result.output.decode()
        assert result.exit_code == 0, output
        figures = json.loads(output.split("WRK-JSON ", 1)[1].splitlines()[0])
        # Throughput counts answers below 400 only: a quick 503 (a request past the queue deadline) is no work done.
        figures["answered"] = figures["requests"] - figures["errors"]["status"]
        figures["rps"] = figures["answered"] / figures["duration_s"]
        # What serving the requests cost: the CPU used meanwhile, less what the service uses when idle.
        figures["cpu_ms_per_request"] = {
            service: max(after[service] - before[service] - self.idle_ns_per_s.get(service, 0) * elapsed, 0)
            / 1e6 / max(figures["requests"], 1) for service in after}
        figures["cores_busy"] = sum(after[s] - before[s] for s in after) / 1e9 / elapsed
        return figures

    def measure_idle(self, seconds=3):
        """CPU each service uses with no traffic (Apache: member discovery and health checks)."""
        before, started = self.cpu_ns(), time.monotonic()
        time.sleep(seconds)
        elapsed, after = time.monotonic() - started, self.cpu_ns()
        self.idle_ns_per_s = {service: (after[service] - before[service]) / elapsed for service in after}

    def cpu_ns(self):
        """CPU time used so far by each service's containers (nanoseconds), from their cgroups."""
        containers = self.cluster.docker.containers.list(
            filters={"label": f"com.docker.compose.project={self.cluster.project}"})
        with concurrent.futures.ThreadPoolExecutor(len(containers)) as pool:
            usage = pool.map(container_cpu_ns, containers)
        used = {}
        for container, ns in zip(containers, usage, strict=True):
            service = container.labels["com.docker.compose.service"]
            used[service] = used.get(service, 0) + ns
        return used

    def side_by_side(self, targets, connections, upload=None):
        """wrk against each of {name: (url, host)} in turn, `rounds` times, the order flipped every round
        (ABBA: drift hits every target alike); per target the summed throughput and the mean latencies."""
        for url, host in targets.values():
            self.wrk(url, connections, seconds=min(2, self.seconds), host=host, upload=upload)  # warm-up
        runs = {name: [] for name in targets}
        order = list(targets.items())
        for round_ in range(self.rounds):
            for name, (url, host) in (order[::-1] if round_ % 2 else order):
                runs[name].append(self.wrk(url, connections, host=host, upload=upload))
        return {name: combine(results) for name, results in runs.items()}

    def compare(self, targets, connections, upload=None):
        """side_by_side of two targets, and the second's throughput over the first's: the median of the
        rounds' ratios, with its confidence interval (the noise). A 2-core VM's speed swings (here a fixed loop
        took 0.30 s, then 0.16 s, for seconds at a time): short runs back to back mostly share a swing, and the
        median drops the rounds that straddle one."""
        runs = self.side_by_side(targets, connections, upload)
        first, second = (runs[name] for name in targets)
        ratios = [b / a if a else math.inf for a, b in zip(first["rounds"], second["rounds"], strict=True)]
        return {**runs, "connections": connections, "ratio": statistics.median(ratios), "ratio_ci": median_ci(ratios),
                "round_ratios": [round(r, 3) for r in ratios], "ratio_of_totals": second["rps"] / first["rps"] if first["rps"] else math.inf}

    def replica_url(self, path):
        (address,) = self.cluster.replica_addresses()
        return f"http://{address}:8000{path}"

    def overhead(self):
        """Direct vs through Apache with one member, as shipped, then without backend connection reuse."""
        self.resize(1)
        result = {page: self.direct_vs_apache(path) for page, path in (("feed", "/"), ("trivial", "/bench/trivial"))}
        with self.apache_settings(**NO_REUSE):
            self.resize(1)
            result["feed_noreuse"] = self.direct_vs_apache("/")
            result["trivial_noreuse"] = self.direct_vs_apache("/bench/trivial")
        self.resize(1)
        return result

    def buffering(self):
        """Request bodies read whole by Apache before a replica sees them (shipped) against streamed to it (the
        apache-streamed service: the same image and settings otherwise), side by side, on the feed and on
        photo posts (from photo_upload()). Then the buffering Apache against itself on photo posts (A/A): what
        the same comparison reads when nothing differs, the noise the buffering cost is judged against."""
        self.resize(1)
        self.cluster.wait_members(1, service="apache-streamed")
        result = {path: self.compare({"streamed": (f"http://apache-streamed{url}", "localhost"),
                                      "buffered": (f"http://apache{url}", "localhost")}, connections, upload=upload)
                  for path, url, upload, connections in (("feed", "/", None, 16),
                                                         ("upload", "/posts/new", self.upload, UPLOAD_CONNECTIONS))}
        result["upload_aa"] = self.compare({"buffered": ("http://apache/posts/new", "localhost"),
                                            "buffered again": ("http://apache/posts/new", "localhost")},
                                           UPLOAD_CONNECTIONS, upload=self.upload)
        return result

    def direct_vs_apache(self, path, upload=None):
        runs = self.compare({"direct": (self.replica_url(path), "localhost"),
                             "apache": (f"http://apache{path}", "localhost")}, connections=16, upload=upload)
        return {**runs, "added_p50_ms": runs["apache"]["latency_ms"]["p50"] - runs["direct"]["latency_ms"]["p50"],
                "added_p99_ms": runs["apache"]["latency_ms"]["p99"] - runs["direct"]["latency_ms"]["p99"]}

    @contextlib.contextmanager
    def apache_settings(self, **settings):
        """Apache recreated with these settings (environment), and as it was afterwards."""
        try:
            self.cluster.compose("up", "-d", "--wait", "--no-deps", "apache", **settings)
            yield
        finally:
            self.cluster.compose("up", "-d", "--wait", "--no-deps", "apache")

    def scaleout(self, replica_counts=(1, 2, 3, 4)):
        result = {}
        for n in replica_counts:
            self.resize(n)
            self.wrk("http://apache/bench/io", 64, seconds=min(2, self.seconds))  # warm-up
            run = self.wrk("http://apache/bench/io", 64, seconds=5 * self.seconds)
            total = sum(run["served_by"].values())
            run["shares"] = {who: count / total for who, count in run["served_by"].items()}
            run["max_share_deviation"] = max(abs(share * n - 1) for share in run["shares"].values())
            result[n] = run
        return result

    def peer(self):
        self.resize(2)
        return self.compare({"haproxy": ("http://haproxy:8080/", "localhost"),
                             "apache": ("http://apache/", "localhost")}, connections=16)

    def media(self, image_path):
        # fake-gcs-server serves path-style reads for its public host only: its own name, as Apache sends it.
        return self.compare({"direct": (f"http://gcs:4443/django-clustering{image_path}", None),
                             "apache": (f"http://apache{image_path}", "localhost")}, connections=16)

    def failovers(self, seconds):
        """The failover run as shipped (backend keep-alive), and with a new backend connection per request."""
        shipped = self.failover(seconds)
        with self.apache_settings(**NO_REUSE):
            return {"shipped": shipped, "noreuse": self.failover(seconds)}

    def failover(self, seconds, clients=32, replicas=3):
        """SIGKILL one of `replicas` replicas halfway through a closed-loop run of `clients` clients. The
        kill takes from the signal until the container is dead: a request started before its end may have
        been on the dying replica (in flight); one started after it must not fail."""
        self.resize(replicas)
        load, records = self.closed_loop(clients, seconds)
        time.sleep(seconds / 2)
        victim = sorted(self.cluster.replicas().values(), key=lambda c: c.name)[0]
        signalled_at = time.time()
        victim.kill()
        victim.wait()
        dead_at = time.time()
        load.join()
        failed = [r for r in records if not r.ok]
        after = [r for r in records if r.started >= dead_at]
        result = {
            "replicas": replicas, "clients": clients, "seconds": seconds, "killed": victim.name,
            "kill_ms": (dead_at - signalled_at) * 1000, "requests": len(records), "requests_after_kill": len(after),
            "failover_errors": sum(1 for r in failed if r.started >= dead_at),
            "failover_inflight_lost": sum(1 for r in failed if r.started < dead_at and r.ended >= signalled_at),
            "errors_before_kill": sum(1 for r in failed if r.ended < signalled_at),
            "failure_kinds": failure_kinds(failed),
            "max_latency_ms": max(r.seconds for r in records) * 1000,
            "max_latency_after_kill_ms": max((r.seconds for r in after), default=0) * 1000,
            "p99_latency_after_kill_ms": percentile([r.seconds for r in after], 99) * 1000,
        }
        self.cluster.resize(replicas)
        return result

    def closed_loop(self, clients, seconds):
        """bench/failover.py's `clients` closed-loop clients on the I/O-bound view for `seconds`, started in
        the loadgen container: the thread to join, and the list its records (Outcome, wall-clock times) land in."""
        records = []
        load = threading.Thread(target=lambda: records.extend(map(Outcome.from_loadgen, json.loads(self.loadgen.exec_run(
            ["python3", "/opt/bench/failover.py", "http://apache/bench/io", str(clients), str(seconds)]).output))))
        load.start()
        return load, records

    def under_load(self, action, clients=32, seconds=120):
        """`action()` run under `clients` closed-loop clients: what it returned, and what they saw meanwhile
        (`window`)."""
        load, records = self.closed_loop(clients, seconds)
        time.sleep(5)
        started = time.time()
        returned = action()
        ended = time.time()
        load.join()
        assert max(r.started for r in records) > ended, f"the load ended before the action ({ended - started:.0f} s)"
        return returned, window(records, started, ended, clients)

    def deploy(self, replicas=2):
        """`make deploy` (scripts/deploy) of a new version of the app under load."""
        self.resize(replicas)
        version = self.cluster.build_version(f"{self.cluster.project}-v2")
        result, window = self.under_load(lambda: self.cluster.deploy(TAG=version))
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        return {"replicas": replicas, **window, "image": f"django-clustering/was:{version}"}

    def scaleups(self):
        """Scaling up under load with new members taking free balancer slots (as shipped), and with no slot
        free (MEMBER_RESERVE=0: each new member rewrites the configuration and reloads Apache)."""
        result = {"slots": self.scaleup()}
        with self.apache_settings(MEMBER_RESERVE="0"):
            result["reload"] = self.scaleup()
        return result

    @staticmethod
    def swarm_deploy(secrets_dir, clients=32):
        """`make swarm-deploy` (Swarm's rolling update) of a new version of the app, on a Swarm stack of the
        bench's own in an engine of its own, under `clients` clients (threads here: the load generator is the
        Compose stack's), each with a session of its own on /whoami."""
        with tempfile.TemporaryDirectory() as socket_dir, isolated_engine(pathlib.Path(socket_dir)) as engine, \
                running_swarm_stack(secrets_dir, engine, prefix="dc-bench-swarm") as swarm:
            version = swarm.build_version(f"{swarm.project}-v2")
            with Traffic(swarm, clients=clients, timeout=30) as traffic:
                time.sleep(5)
                started = time.monotonic()
                result = swarm.deploy(TAG=version, WAS_START_PERIOD="30s")
                ended = time.monotonic()
                time.sleep(1)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
            return {"replicas": len(swarm.replicas()), **window(traffic.outcomes, started, ended, clients)}

    def scaleup(self, start=2, end=4):
        self.cluster.scale(start)
        _, window = self.under_load(lambda: self.cluster.scale(end), seconds=60)
        return {"from": start, "to": end, **window}

    def resize(self, n):
        self.cluster.scale(n)
        self.measure_idle()
        self.idle_cpu_ms_per_s[n] = {s: round(ns / 1e6, 2) for s, ns in self.idle_ns_per_s.items()}


def container_cpu_ns(container):
    """The container's CPU time: read from its cgroup on this host where it can be (cgroup v1 or v2, as
    Docker lays them out), else asked of the engine (slower: up to a second per container)."""
    for path in (f"/sys/fs/cgroup/cpuacct/docker/{container.id}/cpuacct.usage",
                 f"/sys/fs/cgroup/system.slice/docker-{container.id}.scope/cpu.stat",
                 f"/sys/fs/cgroup/docker/{container.id}/cpu.stat"):
        with contextlib.suppress(OSError):
            text = pathlib.Path(path).read_text()
            return int(text) if path.endswith(".usage") else int(text.split("usage_usec ")[1].split()[0]) * 1000
    return container.stats(stream=False, one_shot=True)["cpu_stats"]["cpu_usage"]["total_usage"]


def combine(runs):
    """Several wrk runs of one target as one: throughput over all of them, mean latencies and CPU."""
    duration = sum(r["duration_s"] for r in runs)
    return {
        "rps": sum(r["answered"] for r in runs) / duration, "requests": sum(r["requests"] for r in runs),
        "rounds": [round(r["rps"], 1) for r in runs],
        "errors": sum(sum(r["errors"].values()) for r in runs),
        # wrk's kinds (connect, read, write, status, timeout) with a count, and in which rounds: an error seen in
        # one round only points at an event (a child of Apache exiting, a reload), in every round at a setting.
        "error_kinds": {kind: [r["errors"][kind] for r in runs] for kind in runs[0]["errors"]
                        if any(r["errors"][kind] for r in runs)},
        "latency_ms": {k: statistics.mean(r["latency_ms"][k] for r in runs) for k in runs[0]["latency_ms"]},
        "cpu_ms_per_request": {k: statistics.mean(r["cpu_ms_per_request"][k] for r in runs)
                               for k in runs[0]["cpu_ms_per_request"]},
        "cores_busy": statistics.mean(r["cores_busy"] for r in runs),
    }


def median_ci(values, confidence=0.95):
    """A distribution-free confidence interval of the median of `values` (at least `confidence`): the k-th
    smallest and k-th largest, k from the binomial distribution (16 rounds: the 4th and 13th, 97.9 %)."""
    ordered, n = sorted(values), len(values)
    below = 0  # P(fewer than k of n values fall below the median)
    k = 0
    while k < n // 2 and below + math.comb(n, k) / 2**n <= (1 - confidence) / 2:
        below += math.comb(n, k) / 2**n
        k += 1
    k = max(k, 1)  # too few rounds for the confidence asked: the whole range
    return ordered[k - 1], ordered[n - k]


def window(records, started, ended, clients):
    """What `clients` clients saw of the requests (Outcome) they started between `started` and `ended`: how
    long that was, how many requests, how many failed and how, p99 and slowest."""
    during = [r for r in records if started <= r.started <= ended]
    failed = [r for r in during if not r.ok]
    return {"clients": clients, "seconds": ended - started, "requests": len(during), "failed": len(failed),
            "failure_kinds": failure_kinds(failed), "p99_latency_ms": percentile([r.seconds for r in during], 99) * 1000,
            "max_latency_ms": max(r.seconds for r in during) * 1000}


def failure_kinds(outcomes):
    """The distinct ways requests failed, as "<status> <error>" (0: no response)."""
    return sorted({f"{o.status or 0} {o.error or ''}".strip() for o in outcomes})


def percentile(values, p):
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else (values or [0])[0]


def seed(cluster, posts=10):
    """A realistic feed page: `posts` posts with images, likes and comments. Returns an image's path."""
    visitor = Visitor(cluster).sign_up(f"bench-{uuid.uuid4().hex[:8]}")
    for i in range(posts):
        assert visitor.upload(picture(seed=i), caption=f"bench post {i}").status_code == 302
    for post_id in cluster.sql("SELECT id FROM feed_post").split():
        visitor.post(f"/posts/{post_id}/like")
        visitor.post(f"/posts/{post_id}/comments", {"body": f"comment on {post_id}"})
    return visitor.feed_images()[0]


def photo_upload(cluster, loadgen):
    """A signed-up visitor's photo post (a 1.8 MiB JPEG) as wrk sends it: the multipart body in a file in
    the loadgen container, and the headers that go with it (its type; the session and CSRF cookies)."""
    visitor = Visitor(cluster).sign_up(f"bench-{uuid.uuid4().hex[:8]}")
    token = visitor.session.cookies["csrftoken"]
    body = requests.Request("POST", cluster.url("/posts/new"), data={"caption": "bench", "csrfmiddlewaretoken": token},
                            files={"image": ("photo.jpg", photo())}).prepare()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        member = tarfile.TarInfo("upload.body")
        member.size, member.mode = len(body.body), 0o644
        tar.addfile(member, io.BytesIO(body.body))
    assert loadgen.put_archive("/tmp", archive.getvalue())
    cookies = "; ".join(f"{name}={value}" for name, value in visitor.session.cookies.items())
    return {"file": "/tmp/upload.body", "headers": [f"Content-Type: {body.headers['Content-Type']}", f"Cookie: {cookies}"]}


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    engine = subprocess.run(["docker", "version", "-f", "{{.Server.Version}}"], capture_output=True, text=True)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PAGE_SIZE") *
            os.sysconf("SC_PHYS_PAGES") / 2**30), "kernel": platform.release(), "docker_engine": engine.stdout.strip()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=2, help="length of each measured wrk run")
    parser.add_argument("--rounds", type=int, default=16, help="alternating rounds of each side-by-side pair")
    parser.add_argument("--failover-seconds", type=float, default=20)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "bench" / "results")
    parser.add_argument("--project-prefix", default="dc-bench", help="the stack's Compose project: <prefix>-<random>")
    args = parser.parse_args()
    # Stopped (CI timeout, kill): still remove the stack.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    # A stack of the bench's own, with the bench views, loadgen and HAProxy, and the shipped timeouts: Apache's,
    # and (empty: compose.yaml's default) the replicas' liveness and queue deadlines, which the tests shorten.
    with tempfile.TemporaryDirectory() as secrets_dir, running_stack(
            secrets_dir, prefix=args.project_prefix, COMPOSE_PROFILES="bench", DJANGO_BENCH_VIEWS="true",
            BACKEND_TIMEOUT="30", REPLICA_LIVENESS_SECONDS="", REQUEST_QUEUE_SECONDS="") as cluster:
        print(f"bench: stack up after {time.monotonic() - started:.0f} s", flush=True)
        image = seed(cluster)
        # Made while the stack's published port is known: phases that recreate Apache change it.
        bench = Bench(cluster, args.seconds, args.rounds, photo_upload(cluster, cluster.service("loadgen")))
        phases = {}
        for name, run in (("overhead", bench.overhead), ("scaleout", bench.scaleout), ("peer", bench.peer),
                          ("media", lambda: bench.media(image)), ("buffering", bench.buffering),
                          ("failover", lambda: bench.failovers(args.failover_seconds)), ("deploy", bench.deploy),
                          ("scaleup", bench.scaleups)):
            phase_started = time.monotonic()
            phases[name] = run()
            print(f"bench: {name} took {time.monotonic() - phase_started:.0f} s", flush=True)
    # The deployed version's image outlives its stack: it is the bench's own.
    docker.from_env().images.remove(phases["deploy"]["image"])
    # The Swarm stack once the Compose one is gone: one stack's load on the machine at a time.
    with tempfile.TemporaryDirectory() as secrets_dir:
        phase_started = time.monotonic()
        phases["swarm_deploy"] = Bench.swarm_deploy(secrets_dir)
        print(f"bench: swarm_deploy took {time.monotonic() - phase_started:.0f} s", flush=True)
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(), "settings": vars(args) | {"out": str(args.out)},
        "overhead_ratio": phases["overhead"]["feed"]["ratio"],
        "overhead_trivial_ratio": phases["overhead"]["trivial"]["ratio"],
        "apache_cpu_ms_per_request": phases["overhead"]["feed"]["apache"]["cpu_ms_per_request"]["apache"],
        "apache_cpu_ms_per_request_trivial": phases["overhead"]["trivial"]["apache"]["cpu_ms_per_request"]["apache"],
        "scaleout_3x_ratio": phases["scaleout"][3]["rps"] / phases["scaleout"][1]["rps"],
        "scaleout_ratios": {n: run["rps"] / phases["scaleout"][1]["rps"] for n, run in phases["scaleout"].items()},
        "scaleout_max_share_deviation": max(run["max_share_deviation"] for run in phases["scaleout"].values()),
        "overhead_noreuse_ratio": phases["overhead"]["feed_noreuse"]["ratio"],
        "overhead_trivial_noreuse_ratio": phases["overhead"]["trivial_noreuse"]["ratio"],
        "apache_cpu_ms_per_request_noreuse":
            phases["overhead"]["feed_noreuse"]["apache"]["cpu_ms_per_request"]["apache"],
        "apache_cpu_ms_per_request_trivial_noreuse":
            phases["overhead"]["trivial_noreuse"]["apache"]["cpu_ms_per_request"]["apache"],
        "failover_errors": phases["failover"]["shipped"]["failover_errors"],
        "failover_inflight_lost": phases["failover"]["shipped"]["failover_inflight_lost"],
        "failover_max_latency_ms": phases["failover"]["shipped"]["max_latency_ms"],
        "failover_noreuse_errors": phases["failover"]["noreuse"]["failover_errors"],
        "failover_noreuse_inflight_lost": phases["failover"]["noreuse"]["failover_inflight_lost"],
        "failover_noreuse_max_latency_ms": phases["failover"]["noreuse"]["max_latency_ms"],
        "media_ratio": phases["media"]["ratio"],
        "apache_vs_haproxy_ratio": phases["peer"]["ratio"],
        "overhead_ci": phases["overhead"]["feed"]["ratio_ci"],
        "media_ci": phases["media"]["ratio_ci"],
        "apache_vs_haproxy_ci": phases["peer"]["ratio_ci"],
        # Throughput through Apache with request bodies buffered over the same with them streamed.
        "buffering_feed_cost_ratio": phases["buffering"]["feed"]["ratio"],
        "buffering_upload_cost_ratio": phases["buffering"]["upload"]["ratio"],
        # The noise: each ratio's confidence interval, and the buffering Apache compared with itself (A/A).
        "buffering_feed_cost_ci": phases["buffering"]["feed"]["ratio_ci"],
        "buffering_upload_cost_ci": phases["buffering"]["upload"]["ratio_ci"],
        "buffering_upload_aa_ratio": phases["buffering"]["upload_aa"]["ratio"],
        "buffering_upload_aa_ci": phases["buffering"]["upload_aa"]["ratio_ci"],
        "deploy_failed": phases["deploy"]["failed"],
        "deploy_max_latency_ms": phases["deploy"]["max_latency_ms"],
        "swarm_deploy_failed": phases["swarm_deploy"]["failed"],
        "swarm_deploy_max_latency_ms": phases["swarm_deploy"]["max_latency_ms"],
        "scaleup_failed": phases["scaleup"]["slots"]["failed"],
        "scaleup_max_latency_ms": phases["scaleup"]["slots"]["max_latency_ms"],
        "scaleup_reload_max_latency_ms": phases["scaleup"]["reload"]["max_latency_ms"],
        "idle_cpu_ms_per_s": bench.idle_cpu_ms_per_s,
        "phases": phases,
        "bench_seconds": round(time.monotonic() - started),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    from bench import report  # matplotlib only once there is something to draw
    report.plot(results, args.out / "latest.png")
    (args.out / "latest.md").write_text(report.summary(results, TARGETS))
    if args.out == parser.get_default("out"):  # the recorded run: docs/performance.md quotes its figures
        report.embed(ROOT / "docs" / "performance.md", results, TARGETS)
    print((args.out / "latest.md").read_text())


if __name__ == "__main__":
    main()
