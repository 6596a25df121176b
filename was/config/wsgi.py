import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def drain_request_body(app):
    """Reads what is left of a request body before the response goes out.

    Django may answer without reading the body (a 403 for a missing CSRF cookie, a 405, a 413). gunicorn
    would then close the connection while Apache is still writing the body to it, and the client would
    get Apache's 502 instead of the app's answer. The body is bounded: Apache refuses larger ones (413).
    """

    def drained(environ, start_response):
        response = app(environ, start_response)
        body = environ["wsgi.input"]
        while body.read(64 * 1024):
            pass
        return response

    return drained


application = drain_request_body(get_wsgi_application())
