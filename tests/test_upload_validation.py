"""Bad uploads get a clear 4xx and change nothing: no row in the database, no object in the bucket."""
import uuid

import pytest

from harness.pictures import picture, truncated_jpeg
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
