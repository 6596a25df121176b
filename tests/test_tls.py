"""TLS terminated at Apache with a given certificate and key (compose.tls.yaml): HTTPS only, secure cookies,
HSTS, and `check --deploy` clean."""
import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from harness.cluster import running_stack
from harness.users import Visitor


def self_signed(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            # Its own issuer: a CA, so that a client may trust it as such.
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "tls.crt", directory / "tls.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o644)  # read by Apache in the container; the directory is private
    return cert_file, key_file


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory):
    secrets = tmp_path_factory.mktemp("tls-secrets")
    cert, key = self_signed(secrets)
    with running_stack(secrets, files=("compose.yaml", "compose.tls.yaml"), port=443, scheme="https",
                       WAS_REPLICAS="1", TLS_CERT_FILE=str(cert), TLS_KEY_FILE=str(key)) as stack:
        stack.ca = str(cert)
        yield stack


def test_the_site_is_served_over_https_only_with_secure_cookies_and_hsts(tls_cluster):
    visitor = Visitor(tls_cluster)
    page = visitor.get("/")
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    visitor.sign_up("tls-user")
    assert visitor.user() == "tls-user"
    assert all(cookie.secure for cookie in visitor.session.cookies if cookie.name in ("sessionid", "csrftoken"))

    published = [(port, b["HostIp"]) for port, bindings in tls_cluster.apache().attrs["NetworkSettings"]["Ports"].items()
                 for b in bindings or []]
    assert published == [("443/tcp", "127.0.0.1")]


def test_a_client_claiming_https_over_plain_http_gets_redirected(tls_cluster):
    # Port 80 inside the stack: Apache redirects, whatever X-Forwarded-Proto the client sends.
    result = tls_cluster.apache().exec_run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                                            "-H", "X-Forwarded-Proto: https", "http://127.0.0.1/whoami"])
    assert result.output.decode().startswith("301 https://127.0.0.1/whoami")


def test_check_deploy_is_clean_with_tls(tls_cluster):
    (replica,) = tls_cluster.replicas().values()
    result = replica.exec_run(["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.exit_code == 0, result.output.decode()
    assert "no issues" in result.output.decode()
