"""feed/images.py: an upload is accepted only if it decodes as a JPEG, PNG, GIF or WebP within the limits."""
import io
import re
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from feed.images import check_image, object_name


@pytest.fixture(autouse=True)
def limit(settings):
    settings.UPLOAD_MAX_BYTES = 10 * 1024 * 1024  # the default, whatever this shell's environment says


def upload(data, name="upload"):
    return SimpleUploadedFile(name, data)


def encoded(image_format, size=(64, 48), **options):
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, image_format, **options)
    return buffer.getvalue()


def png_header(width, height):
    """A PNG that declares width x height pixels and holds none: what a decompression bomb shows Pillow first."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("image_format", "extension"), [("JPEG", "jpg"), ("PNG", "png"), ("GIF", "gif"),
                                                         ("WEBP", "webp")])
def test_each_accepted_format_gives_its_extension_and_size(image_format, extension):
    assert check_image(upload(encoded(image_format))) == (extension, 64, 48)


def test_an_animated_gif_is_accepted_with_its_size():
    frames = [Image.new("P", (30, 20), colour) for colour in (1, 2, 3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    assert check_image(upload(buffer.getvalue())) == ("gif", 30, 20)


def test_the_upload_is_rewound_for_storage_whether_accepted_or_refused():
    data = encoded("PNG")
    accepted = upload(data)
    check_image(accepted)
    assert accepted.read() == data
    refused = upload(data[:100])
    with pytest.raises(ValidationError):
        check_image(refused)
    assert refused.read() == data[:100]


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationError, match="The file is empty."):
        check_image(upload(b""))


def test_a_file_over_upload_max_bytes_is_refused_before_decoding(settings):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    with pytest.raises(ValidationError, match="The image is larger than 1 MB."):
        check_image(upload(b"\0" * (1024 * 1024 + 1)))


def test_a_file_of_exactly_upload_max_bytes_is_judged_by_its_content(settings):
    data = encoded("PNG")
    settings.UPLOAD_MAX_BYTES = len(data)
    assert check_image(upload(data))[0] == "png"


@pytest.mark.parametrize("data", [b"GIF89a but not an image", b"<html>not an image</html>"],
                         ids=["forged-magic-bytes", "html"])
def test_what_is_not_an_image_is_refused(data):
    with pytest.raises(ValidationError, match="not a readable JPEG, PNG, GIF or WebP image"):
        check_image(upload(data))


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_a_truncated_image_is_refused(image_format):
    data = encoded(image_format, size=(256, 256), **({"quality": 95} if image_format != "PNG" else {}))
    with pytest.raises(ValidationError, match="not a readable JPEG, PNG, GIF or WebP image"):
        check_image(upload(data[: len(data) * 2 // 3]))


@pytest.mark.parametrize("image_format", ["BMP", "TIFF", "ICO"])
def test_a_real_image_in_another_format_is_refused_naming_the_format(image_format):
    with pytest.raises(ValidationError, match=f"{image_format} images are not accepted"):
        check_image(upload(encoded(image_format)))


def test_a_decompression_bomb_is_refused_without_being_decoded():
    with pytest.raises(ValidationError, match="too many pixels"):
        check_image(upload(png_header(100_000, 100_000)))


def test_object_names_are_new_server_chosen_names_under_posts():
    names = {object_name("jpg") for _ in range(100)}
    assert len(names) == 100
    assert all(re.fullmatch(r"posts/[0-9a-f]{32}\.jpg", name) for name in names)
