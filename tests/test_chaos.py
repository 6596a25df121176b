"""Chaos: mixed work by 16 clients while replicas die, restart and scale 2<->4; nothing acknowledged is lost.

Short in `make test` (CHAOS_SECONDS, default 30); `make chaos DURATION=300` runs a longer one.
"""
import os

from harness.chaos import Chaos


def test_chaos_loses_no_acknowledged_write_and_no_session(cluster, replicas):
    chaos = Chaos(cluster, seconds=float(os.environ.get("CHAOS_SECONDS", "30"))).run()
    print(chaos.report())
    cluster.scale(2)

    assert [(r.action, r.status, r.error) for r in chaos.unexplained_failures()] == []
    # A sign-up lost at a SIGKILL was sent again (or, the account made, followed by a log-in): every client got in.
    assert len(chaos.users) == chaos.clients and len(chaos.records) > 200

    stored_comments = set(cluster.sql("SELECT body FROM feed_comment WHERE body LIKE 'chaos comment %'").split("\n"))
    assert set(chaos.comments) <= stored_comments
    rows = cluster.sql("SELECT caption, image FROM feed_post WHERE caption LIKE 'chaos post %'").split("\n")
    stored = dict(row.split("\t") for row in rows if row)  # caption -> object name
    assert set(chaos.captions) <= set(stored)
    objects = cluster.bucket_objects()
    assert all(f"media/{stored[c]}" in objects for c in chaos.captions)

    for username, session in chaos.users.items():
        assert session.get(cluster.url("/whoami"), timeout=30).json()["user"] == username
    print(f"verified: {len(chaos.captions)} posts with their objects, {len(chaos.comments)} comments, "
          f"{len(chaos.users)} sessions")
