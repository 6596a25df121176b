"""apache/discover-members: who is a member, decided from the resolver's answer and each address's probe,
and what Apache is told. Its functions run in bash with made-up inputs; no Apache, no replica."""
import shlex
import socket
import time

import pytest

READY = 'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"ready": true, "route": "%s"}'
UNREADY = 'HTTP/1.0 503 Service Unavailable\r\n\r\n{"ready": false, "serving": false, "route": "2"}'


@pytest.fixture
def discovery(sourced):
    """discovery(snippet, *args, stdin="", **env) -> stdout of the snippet, which must succeed."""
    def run(snippet, *args, stdin="", **env):
        result = sourced("discover-members", snippet, *args, stdin=stdin, **env)
        assert result.returncode == 0, result.stderr
        return result.stdout
    return run


def lines(*items):
    return "".join(f"{item}\n" for item in items)


# verdict: what a probe's reply means.

@pytest.mark.parametrize(("reply", "verdict"), [
    (READY % "2", "ready 2"),
    (READY.replace("1.0", "1.1") % "web_3-a", "ready web_3-a"),
    (UNREADY, "unready"),
    ('HTTP/1.0 200 OK\r\n\r\n{"ready": true}', "unready"),
    ("", "silent"),
    ("SSH-2.0-OpenSSH_9.2\r\n", "silent"),
], ids=["ready", "ready-http11-odd-route", "503", "200-without-route", "no-answer", "not-http"])
def test_a_reply_is_ready_with_its_route_on_200_unready_on_other_http_and_silent_otherwise(discovery, reply, verdict):
    assert discovery('verdict "$1"', reply) == f"{verdict}\n"


# decide: the members from now on, given the members so far and a verdict per address.

def decide(discovery, previous, verdicts):
    return discovery('decide "$1"', lines(*previous), stdin=lines(*verdicts)).splitlines()


def test_a_replica_that_says_ready_joins_with_its_route(discovery):
    assert decide(discovery, [], ["10.0.0.5 ready 1"]) == ["1 10.0.0.5"]


def test_a_member_that_says_not_ready_leaves(discovery):
    assert decide(discovery, ["1 10.0.0.5", "2 10.0.0.6"], ["10.0.0.5 ready 1", "10.0.0.6 unready"]) == ["1 10.0.0.5"]


def test_a_silent_member_leaves_while_another_is_ready(discovery):
    assert decide(discovery, ["1 10.0.0.5", "2 10.0.0.6"], ["10.0.0.5 ready 1", "10.0.0.6 silent"]) == ["1 10.0.0.5"]


def test_silence_never_empties_the_balancer_the_silent_members_stay_when_none_is_ready(discovery):
    previous = ["1 10.0.0.5", "2 10.0.0.6"]
    assert decide(discovery, previous, ["10.0.0.5 silent", "10.0.0.6 silent"]) == previous
    assert decide(discovery, previous, ["10.0.0.5 silent", "10.0.0.6 unready"]) == ["1 10.0.0.5"]


def test_a_new_address_must_say_ready_to_join_even_when_nothing_else_is(discovery):
    assert decide(discovery, ["1 10.0.0.5"], ["10.0.0.5 silent", "10.0.0.7 silent"]) == ["1 10.0.0.5"]


def test_every_replica_saying_not_ready_empties_the_balancer(discovery):
    assert decide(discovery, ["1 10.0.0.5", "2 10.0.0.6"], ["10.0.0.5 unready", "10.0.0.6 unready"]) == []


def test_members_are_sorted_by_route_one_address_per_route(discovery):
    members = decide(discovery, [], ["10.0.0.7 ready 3", "10.0.0.5 ready 1", "10.0.0.6 ready 3"])
    assert [member.split()[0] for member in members] == ["1", "3"]


# to_probe: which addresses are probed.

def test_the_resolvers_answer_is_probed(discovery):
    assert discovery('to_probe "$1" "$2"', lines("1 10.0.0.5"), "10.0.0.6\n10.0.0.7") == lines("10.0.0.6", "10.0.0.7")


def test_an_empty_answer_probes_the_known_members_instead(discovery):
    assert discovery('to_probe "$1" ""', lines("1 10.0.0.5", "", "2 10.0.0.6")) == lines("10.0.0.5", "10.0.0.6")


# addresses: the resolver's answer.

def test_addresses_lists_each_resolved_address_once_in_order(discovery):
    getent = 'getent() { printf "%s\\n" "10.0.0.6 STREAM was" "10.0.0.6 DGRAM" "10.0.0.5 STREAM"; }\n'
    assert discovery(getent + "addresses") == lines("10.0.0.6", "10.0.0.5")


def test_addresses_is_empty_when_the_resolver_fails(discovery):
    assert discovery("getent() { return 2; }\naddresses") == ""


# probe_all: a probe per address, side by side, over the probe port.

@pytest.fixture
def listener():
    """listener(address) -> a TCP port on that loopback address that accepts connections and never answers."""
    sockets = []

    def listen(address, port=0):
        server = socket.create_server((address, port))
        sockets.append(server)
        return server.getsockname()[1]

    yield listen
    for server in sockets:
        server.close()


def test_an_address_that_refuses_the_probe_is_silent(discovery):
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    assert discovery('probe_all "$@"', "127.0.0.1", PROBE_PORT=str(port)) == "127.0.0.1 silent\n"


def test_hung_replicas_are_silent_after_one_probe_timeout_however_many(discovery, listener):
    addresses = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    port = listener(addresses[0])
    for address in addresses[1:]:
        listener(address, port)
    started = time.monotonic()
    verdicts = discovery('probe_all "$@"', *addresses, PROBE_PORT=str(port), DISCOVERY_PROBE_TIMEOUT="0.6")
    assert verdicts == lines(*(f"{address} silent" for address in addresses))
    assert time.monotonic() - started < 1.5  # one after the other, they would take 1.8 s


# render: the balancer's configuration.

def test_render_gives_each_member_a_slot_in_order_then_free_slots_disabled_under_the_generations_balancer(discovery):
    assert discovery("render 7 2", stdin=lines("1 10.0.0.5", "2 10.0.0.6"), WAS_PORT="8000") == lines(
        "<Proxy balancer://was-7>",
        '    BalancerMember "http://member-7-1:8000" route=1 ${MEMBER_OPTIONS}',
        '    BalancerMember "http://member-7-2:8000" route=2 ${MEMBER_OPTIONS}',
        '    BalancerMember "http://member-7-3:8000" status=+D ${MEMBER_OPTIONS}',
        '    BalancerMember "http://member-7-4:8000" status=+D ${MEMBER_OPTIONS}',
        "    ProxySet stickysession=ROUTEID lbmethod=byrequests",
        "</Proxy>",
    )


# Slots: a replica's address takes a free slot (a hosts line), through balancer-manager.

@pytest.fixture
def slots(discovery, tmp_path):
    """slots(snippet, members, page="") -> stdout of the snippet, run after a rewrite of `members` with a
    reserve of 2 (hosts file and state in tmp_path); balancer-manager is a fake that records what it is told
    (tmp_path/told) and answers `page`."""
    def run(snippet, members, page=""):
        (tmp_path / "page").write_text(page)
        fakes = """
            dir=$1 conf=$1/balancer.conf proxypass=$1/proxypass.conf
            manage() { cat >>"$dir/told"; cat "$dir/page"; }
            rewrite "$2" 2>/dev/null
        """
        return discovery(fakes + snippet, str(tmp_path), "".join(lines(*members)), WAS_PORT="8000",
                         MEMBER_RESERVE="2", HOSTS_FILE=str(tmp_path / "hosts"))
    return run


def row(worker, route, state):
    """A row of balancer-manager's page, as much of it as discover-members reads."""
    return f'<tr><td><a href="/balancer-manager?b=was-1&amp;w={worker}&amp;nonce=x">{worker}</a></td>' \
           f"<td>{route}</td><td></td><td>1.00</td><td>0</td><td>{state}</td></tr>\n"


def test_a_rewrite_names_each_members_slot_in_the_hosts_file(slots, tmp_path):
    assert slots("worker 10.0.0.6", ["1 10.0.0.5", "2 10.0.0.6"]) == "http://member-1-2:8000\n"
    assert read(tmp_path / "hosts") == ["10.0.0.5 member-1-1", "10.0.0.6 member-1-2"]


def test_a_new_member_takes_a_free_slot_gets_its_route_and_is_enabled_without_a_rewrite(slots, tmp_path):
    page = row("http://member-1-2:8000", "3", "Init Ok ")
    slots('add_members <<<"3 10.0.0.7"', ["1 10.0.0.5"], page)
    assert read(tmp_path / "hosts") == ["10.0.0.5 member-1-1", "10.0.0.7 member-1-2"]
    assert read(tmp_path / "told") == ["http://member-1-2:8000 w_wr=3&w_status_D=0&w_status_S=0"]
    assert read(tmp_path / "generation") == ["1"]


def test_an_address_seen_before_takes_a_fresh_slot_and_its_old_one_is_stopped(slots, tmp_path):
    page = row("http://member-1-3:8000", "4", "Init Ok ")
    slots('add_members <<<"4 10.0.0.5"', ["1 10.0.0.5", "2 10.0.0.6"], page)
    assert read(tmp_path / "hosts") == ["10.0.0.5 member-1-1", "10.0.0.6 member-1-2", "10.0.0.5 member-1-3"]
    assert read(tmp_path / "told") == ["http://member-1-1:8000 w_status_S=1",
                                       "http://member-1-3:8000 w_wr=4&w_status_D=0&w_status_S=0"]


def test_adding_fails_when_the_reserve_is_used_up(slots, tmp_path):
    # Slots 2 and 3 are the reserve.
    out = slots('add_members <<<"2 10.0.0.6"; add_members <<<"3 10.0.0.7"; add_members <<<"4 10.0.0.8" || echo failed',
                ["1 10.0.0.5"], row("http://member-1-2:8000", "2", "Init Ok ") + row("http://member-1-3:8000", "3", "Init Ok "))
    assert out == "failed\n"
    assert read(tmp_path / "hosts")[-2:] == ["10.0.0.6 member-1-2", "10.0.0.7 member-1-3"]


def test_adding_fails_when_balancer_manager_does_not_show_the_member_enabled(slots):
    out = slots('add_members <<<"2 10.0.0.6" || echo failed', ["1 10.0.0.5"], row("http://member-1-2:8000", "2", "Init Dis "))
    assert out == "failed\n"


def test_a_member_gone_has_its_slot_stopped(slots, tmp_path):
    out = slots('set_stopped 1 <<<"2 10.0.0.6" && echo stopped', ["1 10.0.0.5", "2 10.0.0.6"],
                row("http://member-1-2:8000", "2", "Init Stop "))
    assert out == "stopped\n"
    assert read(tmp_path / "told") == ["http://member-1-2:8000 w_status_S=1"]


def test_stopping_fails_for_an_address_with_no_slot(slots, tmp_path):
    assert slots('set_stopped 1 <<<"2 10.0.0.9" || echo failed', ["1 10.0.0.5"]) == "failed\n"
    assert read(tmp_path / "told") is None


# update: what Apache is told, given the members it has.

@pytest.fixture
def update(discovery, tmp_path):
    """update(members, answer, said, manager_works=True) -> whether Apache must reload. Runs update with the
    member file (in tmp_path) holding `members` (None: no file yet), the resolver answering `answer`, each
    address's probe saying said[address] (silent if absent) and balancer-manager's adds and stops working or
    not (recorded in tmp_path/added and tmp_path/stopped)."""
    def run(members, answer, said, manager_works=True):
        if members is not None:
            (tmp_path / "members").write_text(lines(*members))
            (tmp_path / "generation").write_text("4\n")
        works = "true" if manager_works else "false"
        fakes = f"""
            dir=$1 conf=$1/balancer.conf proxypass=$1/proxypass.conf hosts=$1/hosts
            addresses() {{ printf %s {shlex.quote(lines(*answer))}; }}
            declare -A said=({" ".join(f"[{ip}]={shlex.quote(verdict)}" for ip, verdict in said.items())})
            probe_all() {{ local ip; for ip in "$@"; do echo "$ip ${{said[$ip]:-silent}}"; done; }}
            set_stopped() {{ cat >"$dir/stopped"; {works}; }}
            add_members() {{ sort >"$dir/added"; {works}; }}
            if update; then echo reload; else echo none; fi
        """
        return discovery(fakes, str(tmp_path)) == "reload\n"
    return run


def read(path):
    return path.read_text().splitlines() if path.exists() else None


def test_the_first_run_writes_every_ready_member_and_reloads(update, tmp_path):
    assert update(None, ["10.0.0.5", "10.0.0.6"], {"10.0.0.5": "ready 1", "10.0.0.6": "ready 2"})
    assert read(tmp_path / "members") == ["1 10.0.0.5", "2 10.0.0.6"]
    assert read(tmp_path / "generation") == ["1"]
    assert read(tmp_path / "proxypass.conf") == ["ProxyPass / balancer://was-1/",
                                                 "ProxyPassReverse / balancer://was-1/"]
    assert 'BalancerMember "http://member-1-2:8000" route=2' in (tmp_path / "balancer.conf").read_text()
    assert read(tmp_path / "hosts") == ["10.0.0.5 member-1-1", "10.0.0.6 member-1-2"]


def test_the_same_members_change_nothing(update, tmp_path):
    assert not update(["1 10.0.0.5"], ["10.0.0.5"], {"10.0.0.5": "ready 1"})
    assert read(tmp_path / "generation") == ["4"]
    assert not (tmp_path / "balancer.conf").exists()


def test_a_member_gone_is_stopped_in_balancer_manager_without_a_reload(update, tmp_path):
    assert not update(["1 10.0.0.5", "2 10.0.0.6"], ["10.0.0.5"], {"10.0.0.5": "ready 1"})
    assert read(tmp_path / "stopped") == ["2 10.0.0.6"]
    assert read(tmp_path / "members") == ["1 10.0.0.5"]
    assert read(tmp_path / "generation") == ["4"]


def test_a_new_member_is_added_in_balancer_manager_without_a_reload(update, tmp_path):
    assert not update(["1 10.0.0.5"], ["10.0.0.5", "10.0.0.6"], {"10.0.0.5": "ready 1", "10.0.0.6": "ready 2"})
    assert read(tmp_path / "added") == ["2 10.0.0.6"]
    assert read(tmp_path / "members") == ["1 10.0.0.5", "2 10.0.0.6"]
    assert read(tmp_path / "generation") == ["4"]
    assert not (tmp_path / "stopped").exists()


def test_a_member_gone_and_a_new_one_are_added_then_stopped_without_a_reload(update, tmp_path):
    said = {"10.0.0.5": "ready 1", "10.0.0.7": "ready 3"}
    assert not update(["1 10.0.0.5", "2 10.0.0.6"], ["10.0.0.5", "10.0.0.7"], said)
    assert read(tmp_path / "added") == ["3 10.0.0.7"]
    assert read(tmp_path / "stopped") == ["2 10.0.0.6"]
    assert read(tmp_path / "members") == ["1 10.0.0.5", "3 10.0.0.7"]


def test_an_address_back_with_another_route_is_only_added_add_members_stops_its_old_slot(update, tmp_path):
    assert not update(["1 10.0.0.5", "2 10.0.0.6"], ["10.0.0.5", "10.0.0.6"], {"10.0.0.5": "ready 1", "10.0.0.6": "ready 7"})
    assert read(tmp_path / "added") == ["7 10.0.0.6"]
    assert not (tmp_path / "stopped").exists()


@pytest.mark.parametrize("said", [{"10.0.0.5": "ready 1"}, {"10.0.0.5": "ready 1", "10.0.0.6": "ready 2", "10.0.0.7": "ready 3"}],
                         ids=["stop", "add"])
def test_a_change_balancer_manager_fails_to_make_is_written_out_compacted_with_a_reload(update, tmp_path, said):
    assert update(["1 10.0.0.5", "2 10.0.0.6"], list(said), said, manager_works=False)
    assert read(tmp_path / "members") == [f"{route} {ip}" for ip, route in ((ip, v.split()[1]) for ip, v in said.items())]
    assert read(tmp_path / "generation") == ["5"]
    assert read(tmp_path / "hosts")[-1] == f"{list(said)[-1]} member-5-{len(said)}"


def test_a_resolver_with_no_answer_keeps_probing_the_members_by_address(update, tmp_path):
    assert not update(["1 10.0.0.5", "2 10.0.0.6"], [], {"10.0.0.5": "ready 1", "10.0.0.6": "ready 2"})
    assert read(tmp_path / "members") == ["1 10.0.0.5", "2 10.0.0.6"]
