"""An https delivery connects to the checked address yet speaks TLS to the URL's name: the
server name (SNI) and the certificate check use the name, the ``Host`` header carries it.

The receiver's certificate is made here for ``localhost`` and trusted through
``SSL_CERT_FILE`` (which the sender's TLS context honours when it is created)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from opsgraph.webhooks import sender
from opsgraph.webhooks.signing import new_secret, signed_headers
from tests.webhooks.receiver import receiving


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def trusted_localhost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ssl.SSLContext, list[str]]]:
    """A server TLS context for ``localhost``, trusted by the sender; the server names
    clients asked for (SNI)."""
    cert, key = _certificate(tmp_path, "localhost")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    sender._tls_context.cache_clear()
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    asked: list[str] = []

    def remember(sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        asked.append(name or "")

    server.sni_callback = remember
    try:
        yield server, asked
    finally:
        sender._tls_context.cache_clear()


async def test_tls_uses_the_name_while_connecting_to_the_checked_address(
    trusted_localhost: tuple[ssl.SSLContext, list[str]],
) -> None:
    tls, asked = trusted_localhost
    secret = new_secret()
    body = orjson.dumps({"id": "evt_1", "type": "customer.created"})
    headers = signed_headers("evt_1", body, [secret], at=dt.datetime.now(dt.UTC))
    with receiving(secret, tls=tls) as receiver:
        url = f"https://localhost:{receiver.port}/hook"
        outcome = await sender.post(url, body, headers, allow_insecure=True)
        assert outcome.succeeded, outcome.error
        (got,) = receiver.snapshot()
    assert got.verified
    assert got.host == f"localhost:{receiver.port}"
    assert "localhost" in asked


async def test_a_certificate_for_another_name_fails_the_attempt(
    trusted_localhost: tuple[ssl.SSLContext, list[str]],
) -> None:
    tls, _ = trusted_localhost
    secret = new_secret()
    body = b"{}"
    headers = signed_headers("evt_2", body, [secret], at=dt.datetime.now(dt.UTC))
    with receiving(secret, tls=tls) as receiver:
        # the address is the same; the name is not the certificate's
        address = ipaddress.ip_address("127.0.0.1")
        outcome = await sender.post(
            f"https://{address}:{receiver.port}/hook", body, headers, allow_insecure=True
        )
        assert receiver.count() == 0
    assert not outcome.succeeded
    assert outcome.status_code is None
    assert outcome.error
