"""A person using the site through the balancer: a requests session with its cookies (ROUTEID too)."""
import re
from urllib.parse import urlsplit

import requests


class Visitor:
    def __init__(self, cluster):
        self.cluster = cluster
        self.session = requests.Session()
        # Per request: a REQUESTS_CA_BUNDLE in the environment would override a session's verify.
        self.verify = getattr(cluster, "ca", True)
        if getattr(cluster, "host", None):
            self.session.headers["Host"] = cluster.host

    def get(self, path, **kwargs):
        return self.session.get(self.cluster.url(path), timeout=30, verify=self.verify, **kwargs)

    def post(self, path, data=None, files=None, csrf=True, **kwargs):
        """A form POST as a browser sends it: with the CSRF token and a same-origin Referer."""
        data = dict(data or {})
        if csrf:
            if "csrftoken" not in self.session.cookies:
                self.get("/login")
            data["csrfmiddlewaretoken"] = self.session.cookies["csrftoken"]
        headers = {"Referer": self.cluster.url("/"), **kwargs.pop("headers", {})}
        return self.session.post(self.cluster.url(path), data=data, files=files, timeout=60, verify=self.verify,
                                 headers=headers, allow_redirects=False, **kwargs)

    def sign_up(self, username, password="correct-horse-battery-9"):
        response = self.post("/signup", {"username": username, "password1": password, "password2": password})
        assert response.status_code == 302, response.text[:500]
        return self

    def log_out(self):
        assert self.post("/logout").status_code == 302

    def user(self):
        return self.get("/whoami").json()["user"]

    def pin(self, route):
        """Sends the next requests to the replica with this route, as a ROUTEID cookie does."""
        # For the host the site is addressed as (requests files cookies under the Host header when one is set).
        host = getattr(self.cluster, "host", None) or urlsplit(self.cluster.base_url).hostname
        self.session.cookies.set("ROUTEID", f".{route}", domain=host, path="/")

    def upload(self, content, filename="photo.jpg", caption="", **kwargs):
        return self.post("/posts/new", {"caption": caption}, files={"image": (filename, content)}, **kwargs)

    def feed_images(self):
        return re.findall(r'<img src="([^"]+)"', self.get("/").text)
