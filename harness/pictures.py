"""Real images made on the fly, and broken ones."""
import io
import random
import struct
import zlib

from PIL import Image


def picture(fmt="JPEG", size=(320, 240), seed=None):
    """An image with random-ish content, so every call gives different bytes."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    for _ in range(20):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        image.paste(tuple(rng.randrange(256) for _ in range(3)), (x, y, min(x + 40, size[0]), min(y + 40, size[1])))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def photo(size=(1600, 1200), seed=0):
    """A camera-sized JPEG: noise compresses as badly as a real photo's detail (about 1.8 MiB at this size)."""
    noise = random.Random(seed).randbytes(size[0] * size[1] * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", size, noise).save(out, "JPEG", quality=92)
    return out.getvalue()


def truncated_jpeg():
    data = picture("JPEG", (640, 480))
    return data[: len(data) // 2]


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pixel_bomb(width=8900, height=8900):
    """A real PNG of width x height black RGB pixels in a few hundred KB (compressed zeros): what a decompression
    bomb is. 8900 x 8900 is 79 M pixels, under twice a 40 M limit, where Pillow only warns."""
    compressor = zlib.compressobj(9)
    row = bytes(1 + 3 * width)  # filter byte 0, then the row's pixels
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels)
            + _png_chunk(b"IEND", b""))


GPS_IFD = 0x8825


def camera_exif():
    """A phone's EXIF: where the picture was taken (GPS), the camera and its serial number."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Phone Maker", "Phone 15"
    exif.get_ifd(0x8769)[0xA431] = "SN-0123456789"  # BodySerialNumber
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (37.0, 33.0, 58.0), 3: "E", 4: (126.0, 58.0, 40.0)})
    return exif


def jpeg_with_gps(size=(320, 240)):
    out = io.BytesIO()
    Image.open(io.BytesIO(picture("JPEG", size))).save(out, "JPEG", exif=camera_exif())
    return out.getvalue()


def mpo(size=(320, 240)):
    """A phone's photo as Pillow reads it: MPO, a JPEG followed by a second image (a depth map, say)."""
    first, second = (Image.open(io.BytesIO(picture("JPEG", size, seed=n))) for n in (1, 2))
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second], exif=camera_exif())
    return out.getvalue()
