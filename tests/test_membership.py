"""Membership fails safe: a member leaves only on positive evidence, and the helpers that keep it are supervised."""
import contextlib
import subprocess
import time

from harness.cluster import Traffic, signal_processes


def test_a_resolver_failure_in_apache_keeps_every_member_and_fails_no_request(cluster, replicas):
    members = cluster.members()
    with Traffic(cluster, clients=6, timeout=30) as traffic:
        time.sleep(1)
        with dns_blackhole(cluster.apache()):
            seen = cluster.watch_members(10)
        time.sleep(2)
    print(f"resolver silent in Apache for 10 s: {len(traffic.outcomes)} requests, {len(traffic.failures())} failed, "
          f"slowest {traffic.slowest():.2f} s; member sets seen: {seen}")
    assert seen == [members]
    assert len(traffic.outcomes) > 100 and traffic.failures() == []


def test_killed_discovery_is_restarted_and_scaling_works_within_10s(cluster, replicas):
    apache = cluster.apache()
    signal_processes(apache, "discover-members", "KILL")
    assert cluster.scale(3, timeout=10) <= 10
    assert "discover-members exited" in apache.logs(since=int(time.time()) - 60).decode()


def test_wedged_discovery_is_restarted_and_scaling_works_again(cluster, replicas):
    apache = cluster.apache()
    stopped = time.monotonic()
    signal_processes(apache, "discover-members", "STOP")
    took = cluster.scale(3, timeout=40)
    print(f"discovery stopped (SIGSTOP): 3 members again {time.monotonic() - stopped:.1f} s later")
    assert "discover-members made no progress" in apache.logs(since=int(time.time()) - 90).decode()
    assert took <= 30


@contextlib.contextmanager
def dns_blackhole(container):
    """Drops every packet to Docker's DNS server (127.0.0.11) in the container's network namespace: lookups
    time out, as when the DNS server does not answer. Needs root and iptables on the host."""
    netns = ["nsenter", "-t", str(container.attrs["State"]["Pid"]), "-n", "iptables"]
    rule = ["OUTPUT", "-d", "127.0.0.11", "-j", "DROP"]
    subprocess.run([*netns, "-I", *rule], check=True)
    try:
        yield
    finally:
        subprocess.run([*netns, "-D", *rule], check=True)
