"""Uploaded images: their header checked against the limits before any pixel is decoded, then decoded (fewer at
once than a replica has threads, so parallel uploads can't exhaust its memory), and stored without the metadata
the uploader may not mean to publish (docs/uploads.md). The object's name is the server's choice."""
import io
import struct
import threading
import uuid
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow format name -> file extension of the stored object. MPO (a phone's JPEG with a second image in it) is
# stored as the JPEG of its first image.
ALLOWED_FORMATS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
# Pillow refuses above twice this and only warns above it: check_image makes the warning an error, which also
# covers the sizes Pillow checks while reading (a GIF frame larger than its screen), besides check_header's.
Image.MAX_IMAGE_PIXELS = settings.UPLOAD_MAX_PIXELS
# EXIF tag 0x0112: how the picture must be turned to be seen upright.
ORIENTATION = 0x0112
_decodes = threading.BoundedSemaphore(settings.UPLOAD_DECODES_PER_PROCESS)


class Busy(Exception):
    """Every decode slot of this process stayed taken for UPLOAD_DECODE_WAIT_SECONDS: try again shortly."""


@dataclass(frozen=True)
class CheckedImage:
    extension: str
    width: int
    height: int
    content: bytes  # what to store: the upload without its metadata


def check_image(upload):
    """The CheckedImage of a real JPEG, PNG, GIF or WebP within the limits, or ValidationError saying what is
    wrong with it; Busy when this process is decoding as many images as it may."""
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size == 0:
        raise ValidationError("The file is empty.")
    if upload.size > limit:
        raise ValidationError(f"The image is larger than {limit // (1024 * 1024)} MB.")
    if not _decodes.acquire(timeout=settings.UPLOAD_DECODE_WAIT_SECONDS):
        raise Busy
    # On every call: a warnings.catch_warnings() elsewhere (pytest's, say) restores the filters it found.
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        upload.seek(0)
        data = upload.read()
        with Image.open(io.BytesIO(data)) as image:
            check_header(image)
            image.verify()
        # verify() misses truncated data: decode every pixel (of the first frame) to be sure.
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return clean(image, data)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(too_many_pixels()) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, IndexError, EOFError, struct.error):
        raise ValidationError("The file is not a readable JPEG, PNG, GIF or WebP image.") from None
    finally:
        _decodes.release()
        upload.seek(0)


def too_many_pixels():
    return f"The image has too many pixels: at most {settings.UPLOAD_MAX_PIXELS:,} in all its frames."


def check_header(image):
    """Refuses, from what Image.open read of the header (nothing decoded yet), a format not accepted or an
    image larger than the limits."""
    if image.format not in ALLOWED_FORMATS:
        raise ValidationError(f"{image.format} images are not accepted: use JPEG, PNG, GIF or WebP.")
    side = settings.UPLOAD_MAX_SIDE
    if image.width > side or image.height > side:
        raise ValidationError(f"The image is {image.width} x {image.height} pixels: at most {side:,} either way.")
    frames = frame_count(image)
    if frames > settings.UPLOAD_MAX_FRAMES:
        raise ValidationError(f"The animation has {frames} frames: at most {settings.UPLOAD_MAX_FRAMES}.")
    if frames * image.width * image.height > settings.UPLOAD_MAX_PIXELS:
        raise ValidationError(too_many_pixels())


def frame_count(image):
    """Frames stored: an MPO's first only. Counting a GIF's reads their headers, still no pixel."""
    return 1 if image.format == "MPO" else getattr(image, "n_frames", 1)


def clean(image, data):
    """The upload without metadata: its bytes with every part that is not picture or colour left out (the
    pixels, animation and colour profile untouched), or, when its EXIF says to turn it, re-encoded upright."""
    orientation = image.getexif().get(ORIENTATION, 1) if image.format != "GIF" else 1
    extension = ALLOWED_FORMATS[image.format]
    if orientation != 1 and frame_count(image) == 1:
        return upright(image, extension)
    width, height = image.size
    return CheckedImage(extension, width, height, STRIPPERS[extension](data))


def upright(image, extension):
    """Re-encodes a still image as its EXIF Orientation says it is seen, keeping only its colour profile."""
    turned = ImageOps.exif_transpose(image)
    turned.info = {key: image.info[key] for key in ("icc_profile", "transparency") if key in image.info}
    out = io.BytesIO()
    fmt = "JPEG" if extension == "jpg" else image.format  # an MPO's first image is a JPEG
    options = {"JPEG": {"quality": 95}, "WEBP": {"quality": 90}}.get(fmt, {})
    icc = {"icc_profile": turned.info["icc_profile"]} if "icc_profile" in turned.info else {}
    turned.save(out, fmt, **options, **icc)
    return CheckedImage(extension, turned.width, turned.height, out.getvalue())


# JPEG markers kept: frame (SOFn), tables (DHT, DAC, DQT, DRI, DNL), scans (SOS); APP2 and APP14 only as below.
_JPEG_KEPT = {*range(0xC0, 0xD0), 0xDA, 0xDB, 0xDC, 0xDD}
# A JFIF header (APP0) of 16 bytes: version and pixel density, no room for a thumbnail. What most encoders write.
_JFIF_NO_THUMBNAIL = b"\xff\xe0\x00\x10JFIF\x00"


def strip_jpeg(data):
    """The first JPEG in data (an MPO's second image, and anything after, left out) with only its picture: no
    EXIF (GPS, camera serial, thumbnail), XMP, IPTC, comment; the ICC profile (APP2) and Adobe's colour
    transform (APP14) kept, as the colours depend on them, and a JFIF header (APP0) without a thumbnail."""
    out = bytearray(b"\xff\xd8")
    pos = 2
    while True:
        while data[pos] == 0xFF and data[pos + 1] == 0xFF:  # fill bytes before a marker
            pos += 1
        if data[pos] != 0xFF:
            raise ValueError("not a JPEG marker")
        marker = data[pos + 1]
        if marker == 0xD9:  # EOI
            return bytes(out + b"\xff\xd9")
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        end = pos + 2 + length
        segment = data[pos:end]
        if marker == 0xDA:  # a scan: entropy-coded data runs to the next 0xFF that is neither 0xFF00 nor RSTn
            end = data.index(b"\xff", end)
            while data[end + 1] == 0x00 or 0xD0 <= data[end + 1] <= 0xD7:
                end = data.index(b"\xff", end + 2)
            segment = data[pos:end]
        if (marker in _JPEG_KEPT or (marker == 0xE2 and segment[4:16] == b"ICC_PROFILE\0")
                or (marker == 0xEE and segment[4:9] == b"Adobe") or segment.startswith(_JFIF_NO_THUMBNAIL)):
            out += segment
        pos = end


# PNG chunks kept: the picture, transparency, colour (profile, gamma, primaries), animation (APNG). Not kept:
# text (tEXt, zTXt, iTXt: comments, software, XMP), eXIf, tIME, and any chunk this list does not know.
_PNG_KEPT = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"cICP", b"sBIT",
             b"bKGD", b"acTL", b"fcTL", b"fdAT"}


def strip_png(data):
    out = bytearray(data[:8])
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if kind in _PNG_KEPT:
            out += data[pos:end]
        if kind == b"IEND":
            break
        pos = end
    return bytes(out)


def strip_gif(data):
    """Keeps the screen, colour tables, frames, their timing (graphic control) and the loop count (NETSCAPE2.0);
    leaves out comments, plain text and every other application extension (XMP)."""
    flags = data[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    out = bytearray(data[:pos])
    while data[pos] != 0x3B:  # trailer
        start = pos
        if data[pos] == 0x2C:  # image descriptor, local colour table, LZW code size, then data sub-blocks
            flags = data[pos + 9]
            pos += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1
            keep = True
        elif data[pos] == 0x21:  # extension: label, then sub-blocks
            label = data[pos + 1]
            keep = label == 0xF9 or (label == 0xFF and data[pos + 3:pos + 14] in (b"NETSCAPE2.0", b"ANIMEXTS1.0"))
            pos += 2
        else:
            raise ValueError("not a GIF block")
        while data[pos]:  # sub-blocks, up to the empty one
            pos += 1 + data[pos]
        pos += 1
        if keep:
            out += data[start:pos]
    return bytes(out + b"\x3b")


# WebP chunks kept: the picture (lossy, lossless, alpha), its features, ICC profile, animation. EXIF and XMP go.
_WEBP_KEPT = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ICCP", b"ANIM", b"ANMF"}


def strip_webp(data):
    out = bytearray()
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos:pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4:pos + 8])
        end = pos + 8 + length + (length & 1)  # chunks are padded to an even length
        if kind == b"VP8X":
            flags = data[pos + 8] & ~0x0C  # no EXIF (0x08), no XMP (0x04) any more
            out += data[pos:pos + 8] + bytes([flags]) + data[pos + 9:end]
        elif kind in _WEBP_KEPT:
            out += data[pos:end]
        pos = end
    return b"RIFF" + struct.pack("<I", len(out) + 4) + b"WEBP" + bytes(out)


STRIPPERS = {"jpg": strip_jpeg, "png": strip_png, "gif": strip_gif, "webp": strip_webp}


def object_name(extension):
    return f"posts/{uuid.uuid4().hex}.{extension}"
