"""feed/images.py: an upload is accepted only if it decodes as a JPEG, PNG, GIF or WebP within the limits."""
import io
import re
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms, PngImagePlugin

from feed import images
from feed.images import Busy, check_image, object_name


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
    checked = check_image(upload(encoded(image_format)))
    assert (checked.extension, checked.width, checked.height) == (extension, 64, 48)


def test_an_animated_gif_is_accepted_with_its_size():
    frames = [Image.new("P", (30, 20), colour) for colour in (1, 2, 3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    checked = check_image(upload(buffer.getvalue()))
    assert (checked.extension, checked.width, checked.height) == ("gif", 30, 20)


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
    assert check_image(upload(data)).extension == "png"


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
        check_image(upload(png_header(9_000, 9_000)))


def test_object_names_are_new_server_chosen_names_under_posts():
    names = {object_name("jpg") for _ in range(100)}
    assert len(names) == 100
    assert all(re.fullmatch(r"posts/[0-9a-f]{32}\.jpg", name) for name in names)


# Limits: refused from the header, before any pixel is decoded (png_header's images have no pixel to decode).

def test_just_over_the_pixel_limit_is_refused_where_pillow_only_warns():
    # 6325 x 6325 is 40.0056 M pixels: over the 40 M default, far under the 80 M at which Pillow itself refuses.
    with pytest.raises(ValidationError, match="too many pixels: at most 40,000,000"):
        check_image(upload(png_header(6325, 6325)))


def test_just_under_the_pixel_limit_passes_the_header_check(settings):
    settings.UPLOAD_MAX_PIXELS = 64 * 48
    assert check_image(upload(encoded("PNG"))).width == 64


@pytest.mark.parametrize("size", [(12_001, 10), (10, 12_001)], ids=["too-wide", "too-high"])
def test_width_and_height_are_each_capped(size):
    with pytest.raises(ValidationError, match="at most 12,000 either way"):
        check_image(upload(png_header(*size)))


def animated_gif(frames, size=(30, 20)):
    images = [Image.new("RGB", size, (40 * n, 0, 0)) for n in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=[70] * frames, loop=0,
                   comment=b"made by unit tests")
    return buffer.getvalue()


def test_an_animation_over_the_frame_limit_is_refused(settings):
    settings.UPLOAD_MAX_FRAMES = 3
    assert check_image(upload(animated_gif(3))).extension == "gif"
    with pytest.raises(ValidationError, match="The animation has 4 frames: at most 3."):
        check_image(upload(animated_gif(4)))


def test_an_animation_is_refused_when_its_frames_hold_too_many_pixels(settings):
    settings.UPLOAD_MAX_PIXELS = 3 * 30 * 20
    assert check_image(upload(animated_gif(3))).extension == "gif"
    with pytest.raises(ValidationError, match="too many pixels"):
        check_image(upload(animated_gif(4)))


def test_an_upload_waits_for_a_decode_slot_then_is_told_to_retry(settings):
    settings.UPLOAD_DECODE_WAIT_SECONDS = 0.2
    with images._decodes:  # the process's only slot (UPLOAD_DECODES_PER_PROCESS = 1), taken
        with pytest.raises(Busy):
            check_image(upload(encoded("PNG")))
    assert check_image(upload(encoded("PNG"))).extension == "png"


# What is stored: the picture, without metadata.

GPS = 0x8825
MAKE, MODEL, BODY_SERIAL = 0x010F, 0x0110, 0xA431


def camera_exif(orientation=None):
    exif = Image.Exif()
    exif[MAKE], exif[MODEL] = "Phone Maker", "Phone 15"
    exif.get_ifd(0x8769)[BODY_SERIAL] = "SN-0123456789"
    exif.get_ifd(GPS).update({1: "N", 2: (37.0, 33.0, 58.0), 3: "E", 4: (126.0, 58.0, 40.0)})
    if orientation:
        exif[images.ORIENTATION] = orientation
    return exif


def photo(image_format="JPEG", size=(64, 48), orientation=None, **options):
    """A picture with a red top-left corner, camera EXIF (GPS, serial), and whatever metadata options add."""
    image = Image.new("RGB", size, "teal")
    image.paste("red", (0, 0, 8, 8))
    buffer = io.BytesIO()
    image.save(buffer, image_format, exif=camera_exif(orientation), **options)
    return buffer.getvalue()


def stored(data):
    return Image.open(io.BytesIO(check_image(upload(data)).content))


XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'


@pytest.mark.parametrize(("image_format", "options"), [
    ("JPEG", {"comment": b"a comment", "xmp": XMP, "quality": 90}),
    ("PNG", {}),
    ("WEBP", {"xmp": XMP, "lossless": True}),
], ids=["JPEG", "PNG", "WEBP"])
def test_exif_gps_serials_xmp_and_comments_are_not_stored(image_format, options):
    data = photo(image_format, **options)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS)  # the upload has them
    with stored(data) as image:
        assert not image.getexif()
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment"} & set(image.info)
    content = check_image(upload(data)).content
    assert b"SN-0123456789" not in content and b"Phone Maker" not in content and b"xmpmeta" not in content


def test_png_text_chunks_are_not_stored():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Someone")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    with stored(photo("PNG", pnginfo=info)) as image:
        assert image.text == {}


def test_gif_comments_are_not_stored_its_animation_is():
    data = animated_gif(3)
    assert b"made by unit tests" in data
    content = check_image(upload(data)).content
    assert b"made by unit tests" not in content
    with Image.open(io.BytesIO(content)) as image:
        assert image.n_frames == 3 and image.info["loop"] == 0 and image.info["duration"] == 70


ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_the_colour_profile_is_kept(image_format):
    with stored(photo(image_format, icc_profile=ICC)) as image:
        assert image.info["icc_profile"] == ICC


@pytest.mark.parametrize(("orientation", "corner"), [(6, (47, 0)), (3, (63, 47)), (8, (0, 63))])
def test_the_exif_orientation_is_applied_then_dropped(orientation, corner):
    # 6: turned 90° clockwise to be seen upright, 3: 180°, 8: 90° anticlockwise. The red corner moves with it.
    data = photo("PNG", orientation=orientation)
    checked = check_image(upload(data))
    upright = (48, 64) if orientation in (6, 8) else (64, 48)
    assert (checked.width, checked.height) == upright
    with Image.open(io.BytesIO(checked.content)) as image:
        assert image.size == upright and not image.getexif()
        assert image.convert("RGB").getpixel(corner) == (255, 0, 0)


def test_a_turned_jpeg_is_stored_upright_as_jpeg_with_its_colour_profile():
    checked = check_image(upload(photo("JPEG", orientation=6, icc_profile=ICC, quality=95)))
    with Image.open(io.BytesIO(checked.content)) as image:
        assert image.format == "JPEG" and image.size == (48, 64) and image.info["icc_profile"] == ICC
        assert not image.getexif()


def mpo(orientation=None):
    first, second = Image.new("RGB", (64, 48), "teal"), Image.new("RGB", (64, 48), "navy")
    buffer = io.BytesIO()
    first.save(buffer, "MPO", save_all=True, append_images=[second], exif=camera_exif(orientation))
    return buffer.getvalue()


def test_an_mpo_photo_is_stored_as_the_jpeg_of_its_first_image():
    data = mpo()
    assert Image.open(io.BytesIO(data)).format == "MPO"
    checked = check_image(upload(data))
    assert (checked.extension, checked.width, checked.height) == ("jpg", 64, 48)
    with Image.open(io.BytesIO(checked.content)) as image:
        assert image.format == "JPEG" and not image.getexif()
        assert image.getpixel((10, 10)) == Image.open(io.BytesIO(data)).convert("RGB").getpixel((10, 10))
    assert len(checked.content) < len(data) / 2


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "GIF", "WEBP"])
def test_an_image_without_metadata_is_stored_byte_for_byte(image_format):
    data = encoded(image_format)
    assert check_image(upload(data)).content == data


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "GIF", "WEBP"])
def test_an_image_without_metadata_is_stored_with_the_same_pixels(image_format):
    image = Image.new("RGB", (300, 200))
    image.putdata([(x % 256, (x * 7) % 256, (x * 13) % 256) for x in range(300 * 200)])
    buffer = io.BytesIO()
    (image.convert("P") if image_format == "GIF" else image).save(buffer, image_format)
    data = buffer.getvalue()
    with Image.open(io.BytesIO(data)) as original, stored(data) as kept:
        assert kept.format == original.format
        assert kept.convert("RGB").tobytes() == original.convert("RGB").tobytes()


def test_a_progressive_jpeg_with_restart_markers_keeps_its_pixels():
    image = Image.frombytes("RGB", (200, 150), bytes(range(256)) * (200 * 150 * 3 // 256) + bytes(200 * 150 * 3 % 256))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", progressive=True, restart_marker_blocks=1, exif=camera_exif())
    with Image.open(buffer) as original, stored(buffer.getvalue()) as kept:
        assert kept.tobytes() == original.tobytes() and not kept.getexif()


def test_a_turned_mpo_photo_is_stored_upright_as_a_jpeg():
    checked = check_image(upload(mpo(orientation=6)))
    assert (checked.extension, checked.width, checked.height) == ("jpg", 48, 64)
    with Image.open(io.BytesIO(checked.content)) as image:
        assert image.format == "JPEG" and image.size == (48, 64) and not image.getexif()
