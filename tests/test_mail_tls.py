"""`CAUSERIE_SMTP_URL=smtps://...` against a relay speaking TLS from the first byte (aiosmtpd
with a certificate made here), and how Causerie is told to trust a relay whose certificate a
private CA signed: OpenSSL's `SSL_CERT_FILE` (docs/notifications.md). Verification is never off:
a relay whose certificate nobody vouches for gets no mail, and the job says why."""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import ssl
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from causerie.domain.mail import Mail
from causerie.mail.smtp import SmtpMailer
from tests.mail_support import Sink, free_port

MAIL = Mail(
    to="zoe@visitor.example",
    subject="Your conversation",
    text="We open at 10.",
    html="<p>We open at 10.</p>",
    unsubscribe_url="https://chat.shop.example/unsubscribe/x",
)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[str, ec.EllipticCurvePrivateKey]
) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer[0]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[1].public_key()),
            critical=False,
        )
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def relay_files(tmp_path: Path) -> dict[str, Path]:
    """A private CA, and the relay's certificate it signed for 127.0.0.1 (and its key)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        _certificate("Causerie test CA", ca_key, ("Causerie test CA", ca_key))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        _certificate("relay", key, ("Causerie test CA", ca_key))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = {"ca": tmp_path / "ca.pem", "cert": tmp_path / "relay.pem", "key": tmp_path / "key"}
    files["ca"].write_bytes(_pem(ca))
    files["cert"].write_bytes(_pem(leaf))
    files["key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@pytest.fixture
def tls_relay(relay_files: dict[str, Path]) -> Iterator[tuple[Sink, int]]:
    """aiosmtpd speaking TLS from the connection's first byte (SMTPS, as on port 465)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(relay_files["cert"], relay_files["key"])
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ssl_context=context)
    controller.start()
    yield sink, port
    controller.stop()


def test_smtps_sends_over_tls_to_a_relay_trusted_through_ssl_cert_file(
    tls_relay: tuple[Sink, int], relay_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    sink, port = tls_relay
    monkeypatch.setenv("SSL_CERT_FILE", str(relay_files["ca"]))
    mailer = SmtpMailer(f"smtps://127.0.0.1:{port}", "Shop chat <chat@shop.example>")
    asyncio.run(mailer.send(MAIL))
    [received] = sink.to(MAIL.to)
    assert received["Subject"] == MAIL.subject
    assert received.get_body(("plain",)).get_content().strip() == MAIL.text  # type: ignore[union-attr]


def test_smtps_refuses_a_relay_whose_certificate_no_trusted_ca_signed(
    tls_relay: tuple[Sink, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The system's CAs do not know the private one: the send fails (the job retries, then
    fails visibly with this reason: `causerie jobs list`), and nothing reached the relay."""
    sink, port = tls_relay
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    mailer = SmtpMailer(f"smtps://127.0.0.1:{port}", "Shop chat <chat@shop.example>")
    with warnings.catch_warnings():
        # aiosmtplib leaves the socket of a failed handshake to the garbage collector (a
        # ResourceWarning at some later collection): collected here, where it is expected.
        warnings.simplefilter("ignore", ResourceWarning)
        with pytest.raises(aiosmtplib.SMTPConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            asyncio.run(mailer.send(MAIL))
        gc.collect()
    assert sink.received == []
