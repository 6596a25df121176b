"""Waits until the init job is done: every migration applied and every static file in the bucket (its last
step). Swarm has no depends_on, so there a replica runs this before it serves (was/serve-after-init)."""
import time

from django.apps import apps
from django.contrib.staticfiles.finders import get_finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


class Command(BaseCommand):
    help = "Wait until the init job has migrated the database and collected the static files."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=600, help="seconds to wait before giving up")

    def handle(self, *args, **options):
        # The files collectstatic uploads: what the finders list, minus its default ignore patterns.
        ignore = apps.get_app_config("staticfiles").ignore_patterns
        wanted = {path for finder in get_finders() for path, _ in finder.list(ignore)}
        deadline = time.monotonic() + options["timeout"]
        last = None
        while (reason := self.pending(wanted)) is not None:
            # Swarm restarts the task: a replica never waits unseen forever.
            if time.monotonic() > deadline:
                raise CommandError(f"init not done after {options['timeout']:g} s: {reason}")
            if reason != last:
                self.stdout.write(f"waiting for init: {reason}")
                last = reason
            time.sleep(1)
        self.stdout.write("init is done")

    def pending(self, wanted):
        """What init has still to do, or None."""
        try:
            executor = MigrationExecutor(connection)
            if executor.migration_plan(executor.loader.graph.leaf_nodes()):
                return "migrations"
            prefix = f"{staticfiles_storage.location}/"
            stored = {blob.name.removeprefix(prefix) for blob in staticfiles_storage.bucket.list_blobs(prefix=prefix)}
            return f"{len(wanted - stored)} static files" if wanted - stored else None
        # The database, the store or the bucket is not there yet.
        except Exception as exc:  # noqa: BLE001
            connection.close()
            return type(exc).__name__
