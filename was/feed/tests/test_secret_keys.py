"""feed/secret_keys.py: a replica follows its key file, so that make rotate-secrets logs nobody out."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from feed import secret_keys


@pytest.fixture
def key_file(tmp_path, monkeypatch, settings):
    path = tmp_path / "django_secret_key"
    path.write_text("old-key-" + "0" * 40 + "\n")
    monkeypatch.setenv("DJANGO_SECRET_KEY_FILE", str(path))
    monkeypatch.setattr(secret_keys, "_seen", None)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "old-key-" + "0" * 40, []
    return path


def test_the_first_line_is_the_key_and_the_others_its_fallbacks(key_file, settings):
    key_file.write_text("new-key\nold-key\n")
    secret_keys.refresh()
    assert (settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS) == ("new-key", ["old-key"])


def test_a_file_caught_empty_mid_write_changes_nothing(key_file, settings):
    key_file.write_text("")
    secret_keys.refresh()
    assert settings.SECRET_KEY == "old-key-" + "0" * 40


@pytest.mark.django_db
def test_a_logged_in_client_stays_logged_in_through_both_steps_of_a_rotation(key_file):
    get_user_model().objects.create_user("alice", password="x" * 12)
    client = Client()
    assert client.login(username="alice", password="x" * 12)
    old = key_file.read_text().strip()
    for content in (f"{old}\nnew-key-{'1' * 40}\n", f"new-key-{'1' * 40}\n{old}\n"):
        key_file.write_text(content)
        assert client.get("/whoami").json()["user"] == "alice"
