"""feed/replica.py: a replica's name and balancer route, parsed from its DNS name (or REPLICA_NAME). The
resolver is faked: what is tested is the parsing."""
import dns.exception
import dns.resolver
import pytest

from feed import replica

HOSTNAME = "3f9c2a1b7d4e"  # a container's hostname: its short id


@pytest.fixture
def dns_name(monkeypatch, settings):
    """Makes the resolver answer this DNS name for the replica's address (None: the lookup fails)."""
    settings.REPLICA_NAME = ""
    monkeypatch.setattr(replica.socket, "gethostname", lambda: HOSTNAME)
    monkeypatch.setattr(replica.socket, "gethostbyname", lambda host: "172.18.0.5")

    def answer(name):
        def resolve_address(address, lifetime):
            if name is None:
                raise dns.resolver.NXDOMAIN
            return [f"{name}."]
        monkeypatch.setattr(replica.dns.resolver, "resolve_address", resolve_address)
        replica.identity.cache_clear()

    yield answer
    replica.identity.cache_clear()


@pytest.mark.parametrize(("name", "expected"), [
    ("django-clustering-was-2.django-clustering_back", ("django-clustering-was-2", "2")),
    ("dc-test-1a2b3c4d-was-12", ("dc-test-1a2b3c4d-was-12", "12")),
    ("django-clustering_was.3.k2x9r1tq0mzl5bu8s7c4d6e0f.django-clustering_back",
     ("django-clustering_was.3", "3")),
], ids=["compose", "compose-project-with-digits", "swarm-task"])
def test_the_route_is_the_number_in_the_replicas_dns_name(dns_name, name, expected):
    dns_name(name)
    assert (replica.name(), replica.route()) == expected


def test_replica_name_overrides_the_dns_name(dns_name, settings):
    settings.REPLICA_NAME = "django-clustering_was.4"
    dns_name("django-clustering_was.4.k2x9r1tq0mzl")
    assert (replica.name(), replica.route()) == ("django-clustering_was.4", "4")


@pytest.mark.parametrize("name", [None, "was"], ids=["lookup-fails", "no-number"])
def test_without_a_numbered_name_the_hostname_is_both_name_and_route(dns_name, name):
    dns_name(name)
    assert (replica.name(), replica.route()) == (HOSTNAME, HOSTNAME)


def test_a_route_from_a_hostname_keeps_only_characters_a_route_may_hold(dns_name, monkeypatch):
    monkeypatch.setattr(replica.socket, "gethostname", lambda: "web.example:8000")
    dns_name(None)
    assert replica.route() == "web-example-8000"


def test_the_identity_is_looked_up_once_per_process(dns_name, monkeypatch):
    dns_name("django-clustering-was-2")
    replica.route()

    def asked_again(*args, **kwargs):
        raise AssertionError("the resolver was asked again")
    monkeypatch.setattr(replica.dns.resolver, "resolve_address", asked_again)
    assert replica.name() == "django-clustering-was-2"
