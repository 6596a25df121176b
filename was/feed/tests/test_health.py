"""feed/health.py: /healthz's report of the shared dependencies, made within a deadline and shared by the
requests of the same second. The checks are fakes: what is tested is how the report treats them."""
import threading
import time

import pytest

from feed import health


@pytest.fixture(autouse=True)
def no_report_yet(monkeypatch):
    monkeypatch.setattr(health, "_last", (0.0, None))
    monkeypatch.setattr(health, "_running", {})


@pytest.fixture
def use(monkeypatch):
    """Makes the report run these checks ({dependency: function}) instead of the real ones."""
    return lambda **checks: monkeypatch.setattr(health, "CHECKS", checks)


def ok():
    pass


def test_every_dependency_ok_is_healthy(use):
    use(db=ok, cache=ok, storage=ok)
    assert health.report() == (True, {"db": "ok", "cache": "ok", "storage": "ok"})


def test_a_failed_check_is_unhealthy_and_names_its_error(use):
    def refused():
        raise ConnectionRefusedError("[Errno 111] Connection refused")
    use(db=refused, cache=ok, storage=ok)
    healthy, report = health.report()
    assert not healthy
    assert report == {"db": "ConnectionRefusedError: [Errno 111] Connection refused", "cache": "ok", "storage": "ok"}


def test_a_long_error_is_cut_to_200_characters(use):
    def verbose():
        raise RuntimeError("x" * 1000)
    use(storage=verbose)
    assert len(health.report()[1]["storage"]) == 200


def test_a_check_that_hangs_fails_at_the_deadline_and_the_others_still_count(use, monkeypatch):
    monkeypatch.setattr(health, "DEADLINE_SECONDS", 0.2)
    release = threading.Event()
    use(db=release.wait, cache=ok, storage=ok)
    try:
        started = time.monotonic()
        healthy, report = health.report()
        assert time.monotonic() - started < 1
    finally:
        release.set()  # frees the pool's thread
    assert not healthy
    assert report == {"db": "no answer within 0.2 s", "cache": "ok", "storage": "ok"}


def test_a_hung_check_is_not_started_again_and_never_starves_the_others(use, monkeypatch):
    monkeypatch.setattr(health, "DEADLINE_SECONDS", 0.2)
    release = threading.Event()
    started = []

    def hung():
        started.append(1)
        release.wait()
    use(db=hung, cache=ok, storage=ok)
    try:
        reports = []
        for _ in range(4):  # more reports than the pool has threads
            monkeypatch.setattr(health, "_last", (0.0, None))
            reports.append(health.report()[1])
    finally:
        release.set()
    assert started == [1]
    assert all(r == {"db": "no answer within 0.2 s", "cache": "ok", "storage": "ok"} for r in reports), reports


def test_requests_within_a_second_share_one_report(use):
    runs = []
    use(db=lambda: runs.append("db"))
    first = health.report()
    assert health.report() is first
    assert runs == ["db"]


def test_a_report_over_a_second_old_is_made_again(use, monkeypatch):
    runs = []
    use(db=lambda: runs.append("db"))
    health.report()
    when, report = health._last
    monkeypatch.setattr(health, "_last", (when - 1.1, report))
    health.report()
    assert runs == ["db", "db"]


def test_draining_while_the_drain_flag_exists(settings, tmp_path):
    settings.DRAIN_FLAG = str(tmp_path / "draining")
    assert not health.draining()
    (tmp_path / "draining").touch()
    assert health.draining()
