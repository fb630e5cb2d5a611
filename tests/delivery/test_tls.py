"""STARTTLS, implicit TLS and AUTH against a real aiosmtpd server with its own certificate.

The relay's certificate is signed by nobody the system trusts; an operator whose relay
uses a private CA points SSL_CERT_FILE at it (Python's default context reads it), which
is what these tests do. Without it, the same relay is refused with a clear reason.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mailer.config import from_mapping
from mailer.delivery.smtp import SmtpTransport
from mailer.delivery.transport import STAGE_AUTH, STAGE_CONNECT, TransportError
from tests.smtp_server import FaultySmtp, smtp_server

MESSAGE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nHello\r\n"
USER, PASSWORD = "relay-user", "correct horse battery staple"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test relay")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "relay.pem", folder / "relay.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def _authenticator(logins: list[str]):  # type: ignore[no-untyped-def]
    def check(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (USER, PASSWORD)
        if ok:
            tls = server.transport.get_extra_info("ssl_object") is not None
            logins.append(f"{mechanism}:{auth_data.login.decode()}:tls={tls}")
        return AuthResult(success=ok, handled=False)  # handled: we did not reply ourselves

    return check


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # How an operator trusts a relay signed by a private CA: Python's default context
    # takes its CA bundle from SSL_CERT_FILE.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))


@pytest.fixture(params=["PLAIN", "LOGIN"])
def starttls_relay(
    request: pytest.FixtureRequest, certificate: tuple[Path, Path]
) -> Iterator[tuple[FaultySmtp, list[str]]]:
    """A relay that requires STARTTLS before AUTH, offering one mechanism."""
    logins: list[str] = []
    other = {"PLAIN": "LOGIN", "LOGIN": "PLAIN"}[request.param]
    with smtp_server(
        tls_context=_server_context(certificate),
        require_starttls=True,
        authenticator=_authenticator(logins),
        auth_require_tls=True,
        auth_exclude_mechanism=[other],
    ) as handler:
        yield handler, logins


def _transport(port: int, *, security: str, password: str = PASSWORD) -> SmtpTransport:
    # Built from configuration, as the workers build it.
    config = from_mapping(
        {"smtp": {"host": "127.0.0.1", "port": port, "security": security,
                  "username": USER, "password": password, "timeout": "5s"}},
        environ={},
    )  # fmt: skip
    return SmtpTransport.from_config(config.smtp)


@pytest.mark.usefixtures("trusted")
def test_starttls_then_auth_delivers_over_the_encrypted_connection(starttls_relay) -> None:  # type: ignore[no-untyped-def]
    server, logins = starttls_relay
    smtp = _transport(server.port, security="starttls")
    try:
        for n in range(3):
            smtp.send(sender="a@example.org", recipient=f"b{n}@example.org", data=MESSAGE)
    finally:
        smtp.close()
    assert [r.recipients for r in server.received] == [[f"b{n}@example.org"] for n in range(3)]
    assert all(r.data == MESSAGE for r in server.received)
    # One login, on the TLS connection, for all three messages: the connection is kept.
    assert len(logins) == 1 and logins[0].endswith(f":{USER}:tls=True")


@pytest.mark.usefixtures("trusted")
def test_a_wrong_password_is_the_relay_refusing_us(starttls_relay) -> None:  # type: ignore[no-untyped-def]
    server, _logins = starttls_relay
    smtp = _transport(server.port, security="starttls", password="wrong")
    with pytest.raises(TransportError) as caught:
        smtp.send(sender="a@example.org", recipient="b@example.org", data=MESSAGE)
    # Permanent and at AUTH: the worker pauses the send and tells the admin.
    assert caught.value.stage == STAGE_AUTH and not caught.value.temporary, caught.value
    assert caught.value.code == 535
    assert server.received == []


@pytest.mark.usefixtures("trusted")
def test_implicit_tls_on_its_own_port(certificate: tuple[Path, Path]) -> None:
    logins: list[str] = []
    with smtp_server(
        ssl_context=_server_context(certificate),
        authenticator=_authenticator(logins),
        # aiosmtpd counts only STARTTLS as TLS when deciding to offer AUTH.
        auth_require_tls=False,
    ) as server:
        smtp = _transport(server.port, security="ssl")
        try:
            smtp.send(sender="a@example.org", recipient="b@example.org", data=MESSAGE)
        finally:
            smtp.close()
    assert [r.recipients for r in server.received] == [["b@example.org"]]
    assert logins and logins[0].endswith("tls=True")


def test_a_certificate_nobody_vouches_for_is_refused_with_the_reason(starttls_relay) -> None:  # type: ignore[no-untyped-def]
    server, logins = starttls_relay
    smtp = _transport(server.port, security="starttls")
    with pytest.raises(TransportError) as caught:
        smtp.send(sender="a@example.org", recipient="b@example.org", data=MESSAGE)
    assert caught.value.stage == STAGE_CONNECT and not caught.value.temporary
    assert "is not trusted" in str(caught.value)
    # Nothing, not even the password, went over the unverified connection.
    assert logins == [] and server.received == []
