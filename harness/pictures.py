"""Real images made on the fly, and broken ones."""
import io
import random

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
