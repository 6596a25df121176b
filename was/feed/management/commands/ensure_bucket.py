from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the media/static bucket if it does not exist (the emulator starts empty)."

    def handle(self, *args, **options):
        client = default_storage.client
        if client.lookup_bucket(settings.GCS_BUCKET) is None:
            client.create_bucket(settings.GCS_BUCKET)
            self.stdout.write(f"created bucket {settings.GCS_BUCKET}")
        else:
            self.stdout.write(f"bucket {settings.GCS_BUCKET} exists")
