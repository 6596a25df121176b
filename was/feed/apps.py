from django.apps import AppConfig


class FeedConfig(AppConfig):
    name = "feed"

    def ready(self):
        # Connects the failed log-in counter (a signal receiver) in every process, whatever it loads first.
        from feed import limits  # noqa: F401
