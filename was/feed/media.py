"""A deleted post's image goes from the bucket first, then from Apache's cache: the other way round, a request
in between would cache it again."""
import http.client
import logging
import socket
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.files.storage import default_storage

from feed.models import OrphanImage

log = logging.getLogger(__name__)


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
