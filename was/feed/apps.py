from django.apps import AppConfig


class FeedConfig(AppConfig):
    name = "feed"

    def ready(self):
        # Connects the signal receivers (failed log-ins counted, deleted posts' images removed) in every process,
        # whatever it loads first.
        from feed import limits, media  # noqa: F401
