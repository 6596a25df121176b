"""config/env.py: the typed readers every setting goes through."""
import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env

NAME = "UNIT_TEST_SETTING"


@pytest.fixture(autouse=True)
def unset(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    monkeypatch.delenv(f"{NAME}_FILE", raising=False)


def test_string_is_the_variables_value_untouched(monkeypatch):
    monkeypatch.setenv(NAME, " value ")
    assert env.string(NAME) == " value "


def test_string_from_the_file_named_by_var_file_wins_over_the_variable_and_is_stripped(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    monkeypatch.setenv(NAME, "from-variable")
    monkeypatch.setenv(f"{NAME}_FILE", str(secret))
    assert env.string(NAME) == "from-file"


def test_an_empty_var_file_is_ignored(monkeypatch):
    monkeypatch.setenv(NAME, "from-variable")
    monkeypatch.setenv(f"{NAME}_FILE", "")
    assert env.string(NAME) == "from-variable"


def test_string_unset_gives_the_default():
    assert env.string(NAME, "fallback") == "fallback"


def test_string_unset_without_default_names_both_ways_to_set_it():
    with pytest.raises(ImproperlyConfigured, match=f"Set {NAME} or {NAME}_FILE"):
        env.string(NAME)


def test_an_empty_variable_is_a_value_not_the_default(monkeypatch):
    monkeypatch.setenv(NAME, "")
    assert env.string(NAME, "fallback") == ""


@pytest.mark.parametrize("value", ["1", "true", "True", "YES", "on", " on "])
def test_boolean_reads_1_true_yes_on_in_any_case_as_true(monkeypatch, value):
    monkeypatch.setenv(NAME, value)
    assert env.boolean(NAME, False) is True


@pytest.mark.parametrize("value", ["0", "false", "FALSE", "no", "off", ""])
def test_boolean_reads_0_false_no_off_and_empty_as_false(monkeypatch, value):
    monkeypatch.setenv(NAME, value)
    assert env.boolean(NAME, True) is False


@pytest.mark.parametrize("default", [True, False])
def test_boolean_unset_gives_the_default(default):
    assert env.boolean(NAME, default) is default


def test_boolean_refuses_anything_else(monkeypatch):
    monkeypatch.setenv(NAME, "maybe")
    with pytest.raises(ImproperlyConfigured, match=f"{NAME} must be a boolean, not 'maybe'"):
        env.boolean(NAME, False)


def test_integer_and_number_parse_the_variable_or_take_the_default(monkeypatch):
    assert env.integer(NAME, 3306) == 3306
    assert env.number(NAME, 0.5) == 0.5
    monkeypatch.setenv(NAME, "42")
    assert env.integer(NAME, 0) == 42
    assert env.number(NAME, 0) == 42.0


@pytest.mark.parametrize(("reader", "value", "kind"), [
    (env.integer, "1.5", "an integer"),
    (env.integer, "", "an integer"),
    (env.number, "fast", "a number"),
])
def test_integer_and_number_refuse_what_does_not_parse_saying_what_was_expected(monkeypatch, reader, value, kind):
    monkeypatch.setenv(NAME, value)
    with pytest.raises(ImproperlyConfigured, match=f"{NAME} must be {kind}, not {value!r}"):
        reader(NAME, 0)


def test_strings_split_on_commas_trimmed_without_empty_items(monkeypatch):
    monkeypatch.setenv(NAME, " a.example , b.example,, ")
    assert env.strings(NAME, []) == ["a.example", "b.example"]


def test_strings_empty_is_an_empty_list_and_unset_the_default(monkeypatch):
    assert env.strings(NAME, ["localhost", "127.0.0.1"]) == ["localhost", "127.0.0.1"]
    monkeypatch.setenv(NAME, "")
    assert env.strings(NAME, ["localhost"]) == []


@pytest.mark.parametrize(("value", "parsed"), [
    ("10/h", (10, 3600)), ("30/15m", (30, 900)), ("5/90s", (5, 90)), ("100/d", (100, 86400)), (" 7/2H ", (7, 7200)),
    ("off", None),
])
def test_rate_is_a_count_per_period(monkeypatch, value, parsed):
    monkeypatch.setenv(NAME, value)
    assert env.rate(NAME, "1/s") == parsed


def test_rate_unset_gives_the_default():
    assert env.rate(NAME, "3/m") == (3, 60)


@pytest.mark.parametrize("value", ["", "10", "10/", "10/x", "0/h", "-1/h", "10/0m", "ten/h", "10/h/2", "1.5/h"])
def test_a_malformed_rate_says_how_to_write_one(monkeypatch, value):
    monkeypatch.setenv(NAME, value)
    with pytest.raises(ImproperlyConfigured, match=f"{NAME} must be a rate such as 10/h"):
        env.rate(NAME, "1/s")


def test_networks_are_addresses_or_networks(monkeypatch):
    monkeypatch.setenv(NAME, "203.0.113.7, 10.0.0.0/8,2001:db8::/32")
    assert [str(n) for n in env.networks(NAME, [])] == ["203.0.113.7/32", "10.0.0.0/8", "2001:db8::/32"]


def test_a_malformed_network_is_named(monkeypatch):
    monkeypatch.setenv(NAME, "10.0.0.0/8,not-an-address")
    with pytest.raises(ImproperlyConfigured, match=f"{NAME} must list IP addresses or networks: .*not-an-address"):
        env.networks(NAME, [])
