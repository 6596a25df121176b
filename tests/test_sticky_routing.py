"""Stickiness: a ROUTEID cookie pins a client; without one, requests spread evenly."""
from collections import Counter

import pytest
import requests

from harness.cluster import served_by

pytestmark = pytest.mark.swarm


def test_first_response_sets_routeid_and_pins_the_next_50_requests(cluster, replicas, client):
    first = client.get(cluster.url("/whoami"))
    assert first.status_code == 200
    route = client.cookies.get("ROUTEID")
    assert route and route.startswith("."), first.headers.get("Set-Cookie")
    assert route[1:] == first.json()["route"]

    seen = Counter()
    for _ in range(50):
        response = client.get(cluster.url("/whoami"))
        assert response.status_code == 200
        assert "ROUTEID" not in response.headers.get("Set-Cookie", ""), "a pinned client got a new route"
        seen[served_by(response)] += 1
    assert seen == Counter({served_by(first): 50})


def test_requests_without_cookie_spread_evenly_over_all_replicas(cluster, replicas):
    # byrequests evens out ALL requests, pinned ones included: after other tests' sticky traffic, new
    # clients rightly go to the less-used replicas first. A new member set starts the count afresh.
    cluster.scale(3)
    total = 60
    # A new session each time: no cookie, no kept-alive connection.
    order = [served_by(requests.get(cluster.url("/whoami"))) for _ in range(total)]
    seen = Counter(order)
    assert set(seen) == set(cluster.replicas()), order
    even = total / len(seen)
    for name, count in seen.items():
        assert abs(count - even) <= 0.2 * even, f"{name} served {count} of {total}: {order}"


def test_every_response_names_the_replica_that_served_it(cluster, replicas, client):
    for path in ("/", "/whoami", "/no-such-page"):
        response = client.get(cluster.url(path))
        assert served_by(response) in replicas, (path, response.status_code, response.headers)

