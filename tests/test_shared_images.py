"""One image, whichever replica answers: uploads go to the bucket, and Apache serves them from there."""
import base64
import hashlib
import re

import pytest

from harness.pictures import picture
from harness.users import Visitor

pytestmark = pytest.mark.swarm


def test_an_upload_through_one_replica_is_the_same_image_through_every_replica(cluster, replicas):
    author = Visitor(cluster).sign_up("author-" + hashlib.sha1(picture(seed=1)).hexdigest()[:6])
    routes = sorted(cluster.routes().values())
    author.pin(routes[0])
    photo = picture("JPEG", seed=42)
    assert author.upload(photo, caption="from replica A").status_code == 302

    urls = set()
    for route in routes:
        reader = Visitor(cluster)
        reader.pin(route)
        assert reader.get("/whoami").json()["route"] == route
        urls.add(reader.feed_images()[0])
    (url,) = urls
    assert re.fullmatch(r"/media/posts/[0-9a-f]{32}\.jpg", url)

    served = Visitor(cluster).get(url)
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
    assert hashlib.sha256(served.content).digest() == hashlib.sha256(photo).digest()

    objects = cluster.bucket_objects()
    assert objects[url.removeprefix("/")] == base64.b64encode(hashlib.md5(photo).digest()).decode()


def test_images_survive_an_object_store_restart(cluster, replicas):
    author = Visitor(cluster).sign_up("restart-" + hashlib.sha1(picture(seed=2)).hexdigest()[:6])
    photo = picture("PNG", seed=7)
    assert author.upload(photo, filename="p.png").status_code == 302
    url = author.feed_images()[0]

    cluster.service("gcs").restart()
    cluster.wait_healthy("gcs")
    served = Visitor(cluster).get(url)
    assert served.status_code == 200, served.text[:300]
    assert hashlib.sha256(served.content).digest() == hashlib.sha256(photo).digest()


def test_static_assets_load_through_every_replica(cluster, replicas):
    for route in cluster.routes().values():
        visitor = Visitor(cluster)
        visitor.pin(route)
        page = visitor.get("/")
        stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
        assert stylesheets == ["/static/feed/site.css"]
        css = visitor.get(stylesheets[0])
        assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
        assert visitor.get("/static/admin/css/base.css").status_code == 200
