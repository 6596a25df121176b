from django.core.management.base import BaseCommand

from feed import media
from feed.models import OrphanImage


class Command(BaseCommand):
    help = "Removes the images of deleted posts that a failure left in the bucket or in Apache's cache."

    def handle(self, **options):
        done = media.remove_orphans()
        left = OrphanImage.objects.count()
        self.stdout.write(f"{done} images of deleted posts removed, {left} left for a later try")
