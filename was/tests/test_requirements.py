"""The unit tests run the app's packages at the versions the image installs (requirements-check.txt pins them
by hand: pip takes no extras in a constraints file, and the app's list has mysqlclient)."""
import importlib.metadata
import pathlib
import re

import pytest

REQUIREMENTS = pathlib.Path(__file__).resolve().parents[1] / "requirements.txt"
PINS = dict(re.findall(r"^([A-Za-z0-9_.-]+)(?:\[[^]]*\])?==(\S+)", REQUIREMENTS.read_text(), re.MULTILINE))
NOT_IN_UNIT_TESTS = {"gunicorn", "mysqlclient", "google-cloud-storage"}


@pytest.mark.parametrize("package", sorted(PINS.keys() - NOT_IN_UNIT_TESTS))
def test_the_app_package_is_installed_at_the_images_version(package):
    assert importlib.metadata.version(package) == PINS[package]
