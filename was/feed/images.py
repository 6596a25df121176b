"""Uploaded images are checked by decoding them, and stored under a name the server chooses."""
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

# Pillow format name -> file extension of the stored object.
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
# Refuse decompression bombs outright: a 40-megapixel photo is already generous.
Image.MAX_IMAGE_PIXELS = 40_000_000


def check_image(upload):
    """Returns (extension, width, height) of a real JPEG, PNG, GIF or WebP within the size limit, or raises
    ValidationError saying what is wrong with it."""
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size == 0:
        raise ValidationError("The file is empty.")
    if upload.size > limit:
        raise ValidationError(f"The image is larger than {limit // (1024 * 1024)} MB.")
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            image.verify()
        upload.seek(0)
        # verify() misses truncated data: decode every pixel (and every frame's first) to be sure.
        with Image.open(upload) as image:
            image.load()
            width, height = image.size
    except Image.DecompressionBombError:
        raise ValidationError("The image has too many pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError("The file is not a readable JPEG, PNG, GIF or WebP image.") from None
    finally:
        upload.seek(0)
    if image_format not in ALLOWED_FORMATS:
        raise ValidationError(f"{image_format} images are not accepted: use JPEG, PNG, GIF or WebP.")
    return ALLOWED_FORMATS[image_format], width, height


def object_name(extension):
    return f"posts/{uuid.uuid4().hex}.{extension}"
