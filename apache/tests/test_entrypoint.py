"""apache/entrypoint: the settings it derives for Apache's configuration from the environment."""
import pytest


@pytest.fixture
def derived(sourced):
    """derived(**env) -> (APACHE_MAX_BODY_BYTES, BACKEND_REUSE) as export_settings sets them under env."""
    def run(**env):
        result = sourced("entrypoint", 'export_settings; echo "$APACHE_MAX_BODY_BYTES $BACKEND_REUSE"', **env)
        assert result.returncode == 0, result.stderr
        return tuple(result.stdout.split())
    return run


def test_by_default_bodies_up_to_10_mib_plus_the_multipart_envelope_and_connections_reused_for_4_s(derived):
    assert derived() == (str(10 * 1024 * 1024 + 65536), "ttl=4")


def test_the_body_limit_follows_the_apps_upload_limit(derived):
    assert derived(UPLOAD_MAX_BYTES="1048576")[0] == str(1048576 + 65536)


@pytest.mark.parametrize(("ttl", "reuse"), [("2", "ttl=2"), ("0", "disablereuse=On")])
def test_backend_keepalive_ttl_sets_the_reuse_time_and_0_turns_reuse_off(derived, ttl, reuse):
    assert derived(BACKEND_KEEPALIVE_TTL=ttl)[1] == reuse
