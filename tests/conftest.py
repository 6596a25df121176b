"""Stacks for the tests, each under a compose project (or Swarm stack) of its own, removed (with its volumes)
at the end.

They never touch the stack of `make up` (project django-clustering) or `make swarm-up`: other project and
stack names, other secrets, random ports. Modules marked `swarm` run against both deployments; the Swarm stack
runs in an engine of the tests' own (harness/engine.py). A canary stack beside them checks it at the end.
"""
import contextlib

import pytest
import requests

from harness.canary import running_canary
from harness.cluster import REPLICAS, running_stack
from harness.engine import isolated_engine, running_swarm_stack


def pytest_generate_tests(metafunc):
    """Tests of modules marked `swarm` run twice: on the Compose stack and on the Swarm stack."""
    if metafunc.definition.get_closest_marker("swarm") and "cluster" in metafunc.fixturenames:
        metafunc.parametrize("cluster", ["compose", "swarm"], indirect=True, scope="session")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """The Swarm stack's tests last (after pytest's grouping by fixture): it is deployed for the first of
    them and removed at the end of the session, so it stands only while they run. After them, the tests
    marked `at_end`."""
    items.sort(key=lambda item: (item.get_closest_marker("at_end") is not None,
                                 getattr(item, "callspec", None) is not None
                                 and item.callspec.params.get("cluster") == "swarm"))


@pytest.fixture(scope="session")
def secrets_dir(tmp_path_factory):
    """The test stacks' own generated secrets."""
    return tmp_path_factory.mktemp("secrets")


@pytest.fixture(scope="session", autouse=True)
def canary():
    """A stack beside the suite from its first test on, as a user's `make up` (test_beside_the_suite.py)."""
    with running_canary() as stack:
        yield stack


@pytest.fixture(scope="session")
def stacks():
    """The session's stacks and the Swarm tests' engine: removed at its end, or by the tests marked `at_end`
    (stacks.close()), which check what their removal left behind."""
    with contextlib.ExitStack() as session_stacks:
        yield session_stacks


@pytest.fixture(scope="session")
def compose_cluster(secrets_dir, stacks):
    return stacks.enter_context(running_stack(secrets_dir))


@pytest.fixture(scope="session")
def swarm_cluster(secrets_dir, stacks, tmp_path_factory):
    engine = stacks.enter_context(isolated_engine(tmp_path_factory.mktemp("engine")))
    print(f"swarm engine: started in {engine.started_seconds:.1f} s, "
          f"stack images loaded in {engine.loaded_seconds:.1f} s")
    return stacks.enter_context(running_swarm_stack(secrets_dir, engine))


@pytest.fixture(scope="session")
def cluster(request):
    """The Compose stack, or for a test parametrised so, the Swarm stack."""
    return request.getfixturevalue(f"{getattr(request, 'param', 'compose')}_cluster")


@pytest.fixture
def replicas(cluster):
    """Each test starts (and leaves the next one) with REPLICAS replicas, all routed to."""
    cluster.scale(REPLICAS)
    yield cluster.replicas()
    cluster.scale(REPLICAS)


@pytest.fixture
def client():
    with requests.Session() as session:
        yield session
