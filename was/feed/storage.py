from urllib.parse import quote

from storages.backends.gcloud import GoogleCloudStorage
from storages.utils import clean_name


class SameOriginGoogleCloudStorage(GoogleCloudStorage):
    """Public objects at /<object name> on this site: Apache proxies /media/ and /static/ to the bucket."""

    def url(self, name, parameters=None):
        return "/" + quote(self._normalize_name(clean_name(name)), safe="/~")
