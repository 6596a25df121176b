"""`make down && make up` keeps users, posts, images and sessions: only `make clean` deletes data."""
import hashlib
import uuid

from harness.pictures import picture
from harness.users import Visitor


def test_down_and_up_keep_users_posts_images_and_sessions(cluster, replicas):
    member = Visitor(cluster).sign_up(f"persist-{uuid.uuid4().hex[:8]}")
    photo = picture("PNG", seed=99)
    assert member.upload(photo, filename="keep.png", caption="still here after down/up").status_code == 302
    url = member.feed_images()[0]

    cluster.down_and_up()
    cluster.wait_members(2)

    assert member.user() is not None, "session lost"
    assert "still here after down/up" in member.get("/").text
    assert hashlib.sha256(Visitor(cluster).get(url).content).digest() == hashlib.sha256(photo).digest()
