"""A deleted post's image: recorded as an orphan in the transaction that deletes the post, however it goes (its
author, the admin, its author's account deleted), then removed once that commits: from the bucket first, then
from Apache's cache (the other way round, a request in between would cache it again), then the record. A
failure leaves the record, retried after the next removal that succeeds and by `manage.py remove_orphan_images`
(run by the init step)."""
import functools
import http.client
import logging
import socket
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from feed.models import OrphanImage, Post

log = logging.getLogger(__name__)
# Removals that failed earlier, retried after each one that succeeds (the bucket is back).
RETRIES_AFTER_REMOVAL = 10


@receiver(post_delete, sender=Post)
def image_orphaned(sender, instance, **kwargs):
    if instance.image.name:
        orphan, _ = OrphanImage.objects.get_or_create(name=instance.image.name)
        transaction.on_commit(functools.partial(remove_then_retry, orphan))


def remove_then_retry(orphan):
    if remove(orphan):
        remove_orphans(RETRIES_AFTER_REMOVAL)


def purge_cache(name):
    """Tells every Apache at MEDIA_CACHE_PURGE_URL (each address of its host) to drop its copy of the image: a
    POST to the image's URL on its purge port, which mod_cache answers by invalidating that URL. Raises OSError
    if one cannot be told."""
    if not settings.MEDIA_CACHE_PURGE_URL:
        return
    url = urlsplit(settings.MEDIA_CACHE_PURGE_URL)
    path = quote(f"{settings.MEDIA_URL}{name}")
    port = url.port or 80
    for address in sorted({info[4][0] for info in socket.getaddrinfo(url.hostname, port, type=socket.SOCK_STREAM)}):
        connection = http.client.HTTPConnection(address, port, timeout=2)
        try:
            connection.request("POST", path, headers={"Host": url.hostname})
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException) as error:
            raise OSError(f"Apache at {address}:{port} not told that {path} is gone: {error}") from error
        finally:
            connection.close()
        if status >= 300:
            raise OSError(f"Apache at {address}:{port} answered {status} to the purge of {path}")


def remove(orphan):
    """Removes the orphan's object from the bucket, then Apache's copy, then the record; True once all are gone.
    A failure is logged and leaves the record for a retry (removing an object already gone is no error)."""
    try:
        default_storage.delete(orphan.name)
        purge_cache(orphan.name)
        orphan.delete()
    except Exception:  # the bucket, Apache or the database away, whatever the library: retried later
        log.warning("image %s of a deleted post not removed yet, will be retried", orphan.name, exc_info=True)
        return False
    return True


def remove_orphans(limit=None):
    """Retries the removals that failed before, oldest first, stopping at the first that fails again; returns
    how many were done."""
    done = 0
    for orphan in OrphanImage.objects.order_by("id")[:limit]:
        if not remove(orphan):
            break
        done += 1
    return done
