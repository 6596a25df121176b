"""Django's MariaDB backend, reading the password (DB_PASSWORD_FILE) for every new connection.

`make rotate-secrets` writes the new password to the file in place, then changes it in MariaDB: a
connection opened in between is refused (1045), and is tried again with the file read anew for up to
PASSWORD_CHANGE_SECONDS instead of failing its request. Open connections are not affected by the change.
"""
import os
import time

from django.db.backends.mysql import base
from MySQLdb import OperationalError

ACCESS_DENIED = 1045
PASSWORD_CHANGE_SECONDS = 5


def password(default):
    path = os.environ.get("DB_PASSWORD_FILE")
    if not path:
        return default
    with open(path, encoding="utf-8") as f:
        return f.read().strip() or default


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        params["password"] = password(params.get("password", ""))
        return params

    def get_new_connection(self, conn_params):
        deadline = time.monotonic() + PASSWORD_CHANGE_SECONDS
        while True:
            try:
                return super().get_new_connection(conn_params)
            except OperationalError as exc:
                if exc.args[0] != ACCESS_DENIED or time.monotonic() > deadline:
                    raise
            time.sleep(0.2)
            conn_params = self.get_connection_params()
