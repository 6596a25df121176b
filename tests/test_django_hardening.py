"""`manage.py check --deploy` on a running replica: clean but for the HTTPS settings (no TLS here)."""
import re

HTTPS_ONLY = {
    "security.W004",  # SECURE_HSTS_SECONDS
    "security.W008",  # SECURE_SSL_REDIRECT
    "security.W012",  # SESSION_COOKIE_SECURE
    "security.W016",  # CSRF_COOKIE_SECURE
}


def test_check_deploy_reports_only_the_https_settings(cluster, replicas):
    replica = next(iter(replicas.values()))
    result = replica.exec_run(["python", "manage.py", "check", "--deploy", "--fail-level", "CRITICAL"])
    output = result.output.decode()
    assert result.exit_code == 0, output
    found = set(re.findall(r"\((\w+\.\w+)\)", output))
    assert found <= HTTPS_ONLY, output
