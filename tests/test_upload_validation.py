"""Bad uploads get a clear 4xx and change nothing: no row in the database, no object in the bucket. Hostile
ones (pixel bombs) are refused from their header, in parallel too, with a replica's memory bounded; what is
stored and served carries no metadata (GPS), and a phone's MPO photo is accepted as a JPEG."""
import concurrent.futures
import io
import uuid

import pytest
from PIL import Image

from harness.cluster import REPLICAS, memory_peak_mib
from harness.pictures import GPS_IFD, jpeg_with_gps, mpo, picture, pixel_bomb, truncated_jpeg
from harness.users import Visitor

TEN_MB = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def uploader(cluster):
    return Visitor(cluster).sign_up(f"uploader-{uuid.uuid4().hex[:8]}")


BAD_UPLOADS = {
    "text renamed .jpg": dict(content=b"just some text, not an image\n" * 10, filename="photo.jpg"),
    "truncated JPEG": dict(content=truncated_jpeg(), filename="cut.jpg"),
    "zero bytes": dict(content=b"", filename="empty.jpg"),
    "over the limit": dict(content=picture("PNG", (64, 64)) + b"\0" * (TEN_MB + 1), filename="huge.png"),
    "a ../ file name": dict(content=b"not an image", filename="../../../etc/passwd.jpg"),
    "a bare .. file name": dict(content=picture("JPEG"), filename=".."),
    "BMP, a real image of another format": dict(content=picture("BMP"), filename="photo.bmp"),
    # 79 M pixels in 226 KB: under twice the 40 M limit, where Pillow itself only warns.
    "a pixel bomb": dict(content=pixel_bomb(), filename="bomb.png"),
    # 6325 x 6325: 40.0056 M pixels.
    "a PNG just over the pixel limit": dict(content=pixel_bomb(6325, 6325), filename="big.png"),
    "no CSRF token": dict(content=picture("JPEG"), filename="photo.jpg", csrf=False),
}


@pytest.mark.parametrize("case", BAD_UPLOADS, ids=list(BAD_UPLOADS))
def test_a_bad_upload_gets_a_4xx_and_changes_nothing(cluster, uploader, case):
    before = cluster.stored()
    response = uploader.upload(**BAD_UPLOADS[case])
    assert 400 <= response.status_code < 500, (case, response.status_code)
    assert cluster.stored() == before


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_each_accepted_format_is_stored_under_a_name_the_server_chose(cluster, uploader, fmt):
    before = set(cluster.bucket_objects())
    response = uploader.upload(picture(fmt), filename=f"../../outside.{fmt.lower()}")
    assert response.status_code == 302
    (new,) = set(cluster.bucket_objects()) - before
    assert new.startswith("media/posts/") and "outside" not in new and ".." not in new


def test_a_failed_database_write_leaves_no_object_behind(cluster, uploader):
    # A trigger makes MariaDB refuse this one post (a NULL author) after the image is already in the bucket.
    cluster.sql("CREATE TRIGGER refuse_post BEFORE INSERT ON feed_post FOR EACH ROW "
                "SET NEW.author_id = IF(NEW.caption = 'refused by the database', NULL, NEW.author_id)")
    try:
        before = cluster.stored()
        response = uploader.upload(picture("JPEG"), caption="refused by the database")
        assert response.status_code == 503 and "could not be saved" in response.text
        assert cluster.stored() == before
    finally:
        cluster.sql("DROP TRIGGER refuse_post")


@pytest.mark.parametrize("size", [(8900, 8900), (6325, 6325)], ids=["pixel bomb", "just over the limit"])
def test_too_many_pixels_is_a_400_that_says_so(uploader, size):
    response = uploader.upload(pixel_bomb(*size), filename="big.png")
    assert response.status_code == 400 and "too many pixels" in response.text


@pytest.fixture(scope="module")
def fresh_replica(cluster):
    """A replica started for these tests, so that its memory peak is theirs alone: (container, route)."""
    before = set(cluster.replicas())
    cluster.scale(REPLICAS + 1)
    cluster.wait_members(REPLICAS + 1)
    routes = cluster.routes()
    (name,) = set(routes) - before
    yield cluster.replicas()[name], routes[name]
    cluster.scale(REPLICAS)
    cluster.wait_members(REPLICAS)


def pinned_users(cluster, route, n=8):
    users = [Visitor(cluster).sign_up(f"parallel-{uuid.uuid4().hex[:8]}") for _ in range(n)]
    for user in users:
        user.pin(route)
    return users


def upload_in_parallel(users, content):
    """The users upload the same content at once; their status codes."""
    for user in users:
        user.session.close()  # new connections: Apache may have closed the idle kept-alive ones (a POST is not retried)
    with concurrent.futures.ThreadPoolExecutor(len(users)) as pool:
        return list(pool.map(lambda user: user.upload(content, filename="big.png").status_code, users))


def assert_alive(container):
    """Running, never killed for memory nor restarted since the test began."""
    container.reload()
    state = container.attrs["State"]
    assert state["Running"] and not state["OOMKilled"] and container.attrs["RestartCount"] == 0, state


def test_eight_pixel_bombs_at_once_are_refused_from_their_headers_and_cost_no_memory(cluster, fresh_replica):
    container, route = fresh_replica
    users = pinned_users(cluster, route)
    before = cluster.stored(), memory_peak_mib(container)
    assert upload_in_parallel(users, pixel_bomb()) == [400] * 8
    peak = memory_peak_mib(container)
    print(f"replica memory peak: {before[1]:.0f} MiB before, {peak:.0f} MiB after 8 parallel pixel bombs")
    # On main before this change all 8 were decoded and accepted, and the peak reached 1263 MiB.
    assert peak < before[1] + 100  # decoding one of them would take 226 MiB (79 M pixels of 3 bytes)
    assert cluster.stored() == before[0]
    assert_alive(container)


def test_eight_images_just_under_the_pixel_limit_at_once_are_decoded_a_few_at_a_time(cluster, fresh_replica):
    container, route = fresh_replica
    # 6300 x 6300: 39.7 M pixels, 119 MB decoded. A replica decodes GUNICORN_WORKERS (2) of them at once.
    codes = upload_in_parallel(pinned_users(cluster, route), pixel_bomb(6300, 6300))
    # Accepted, or (one that waited UPLOAD_DECODE_WAIT_SECONDS for its turn) a 503 to retry: never a failure.
    assert set(codes) <= {302, 503} and codes.count(302) >= 2, codes
    peak = memory_peak_mib(container)
    print(f"replica memory peak after 8 parallel uploads of 39.7 M pixels: {peak:.0f} MiB; answers {codes}")
    # Measured 503 MiB (8 decodes at once would need about 1 GiB, and did without the bound).
    assert peak < 650
    assert_alive(container)


def test_every_service_runs_under_a_memory_limit_the_databases_above_a_replicas(cluster):
    limits = {service: {c.attrs["HostConfig"]["Memory"] for c in cluster.containers(service)}
              for service in ("apache", "was", "db", "redis", "gcs")}
    assert all(limit and 0 not in limit for limit in limits.values()), limits
    assert min(limits["db"]) >= max(limits["was"]), limits


def served_image(cluster, uploader, content):
    """Uploads content and fetches the stored object as a browser does, through Apache."""
    before = set(cluster.bucket_objects())
    assert uploader.upload(content).status_code == 302
    (name,) = set(cluster.bucket_objects()) - before
    response = uploader.get("/" + name)
    assert response.status_code == 200
    return name, response


def test_a_photos_gps_position_camera_and_serial_are_not_served(cluster, uploader):
    data = jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)
    name, response = served_image(cluster, uploader, data)
    assert name.endswith(".jpg") and response.headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.format == "JPEG" and image.size == (320, 240)
        assert not image.getexif()  # no EXIF at all: no GPSInfo
    assert b"SN-0123456789" not in response.content and b"Phone Maker" not in response.content


def test_a_phones_mpo_photo_is_accepted_and_served_as_the_jpeg_of_its_first_image(cluster, uploader):
    data = mpo()
    assert Image.open(io.BytesIO(data)).format == "MPO"
    name, response = served_image(cluster, uploader, data)
    assert name.endswith(".jpg") and response.headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.format == "JPEG" and image.size == (320, 240) and not image.getexif()
