"""The init service's first step: one sentence instead of a traceback when MariaDB refuses the app's password."""
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection

ACCESS_DENIED = 1045


class Command(BaseCommand):
    help = "Connect to the database; say so clearly if it was created with other secrets than these."

    def handle(self, *args, **options):
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            if exc.args[0] != ACCESS_DENIED:
                raise
            raise CommandError("MariaDB refuses db_password: the database was created with other secrets than "
                               "this checkout's; put back the .secrets/ it was created with, or delete the data "
                               "with make clean (docs/operations.md, Secrets)") from None
