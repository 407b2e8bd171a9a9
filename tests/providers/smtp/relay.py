"""A real SMTP server on loopback for the smtp provider's tests (aiosmtpd, in its own
thread): it keeps every message it accepts, can require STARTTLS or implicit TLS with a
certificate made for the test, can require AUTH, and can refuse with scripted replies."""

import datetime
import ipaddress
import ssl
import tempfile
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USERNAME = "mailer"
PASSWORD = "relay-password-7731"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    peer: str
    """The client's address and port: one per connection."""


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    data_replies: deque[str] = field(default_factory=deque)
    """Replies to DATA to give, in order, before accepting again ("451 ...", "550 ...")."""
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    """A reply to RCPT TO per address, instead of accepting it."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_replies:
            return self.data_replies.popleft()
        assert isinstance(envelope.content, bytes)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed, str(session.peer))
        )
        return "250 2.0.0 Ok: queued"


@dataclass(frozen=True)
class TestCertificate:
    ca_file: Path
    server_context: ssl.SSLContext


def make_certificate() -> TestCertificate:
    """A CA and a certificate it signed for localhost and 127.0.0.1."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "omniroute test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder = Path(tempfile.mkdtemp(prefix="smtp-tls-"))
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    return TestCertificate(folder / "ca.pem", context)


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USERNAME.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


class Relay:
    """aiosmtpd on a loopback port: ``security`` as an smtp channel names it; with
    ``auth`` it requires AUTH (after TLS when there is TLS)."""

    def __init__(
        self,
        port: int,
        *,
        security: str = "none",
        auth: bool = False,
        certificate: TestCertificate | None = None,
    ) -> None:
        self.handler = Handler()
        self.security = security
        self.auth = auth
        self.port = port
        options: dict[str, Any] = {}
        if security == "starttls":
            assert certificate is not None
            options |= {"tls_context": certificate.server_context, "require_starttls": True}
        if security == "tls":
            assert certificate is not None
            options["ssl_context"] = certificate.server_context
        if auth:
            # aiosmtpd counts only STARTTLS as TLS for AUTH; implicit TLS is TLS from the start
            options |= {
                "authenticator": _authenticate,
                "auth_required": True,
                "auth_require_tls": security == "starttls",
            }
        self._options = options
        self._controller: Controller | None = None

    def start(self) -> None:
        """Listen (again: a stopped relay comes back on the same port, same handler)."""
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, server_hostname="localhost", **self._options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def config(self, **overrides: Any) -> dict[str, Any]:
        """An smtp channel config for this relay."""
        config: dict[str, Any] = {
            "host": "localhost",
            "port": self.port,
            "security": self.security,
            "from_address": "notifications@shop.example.com",
            "from_name": "Ada's Shop",
        }
        if self.auth:
            config |= {"username": USERNAME, "password": PASSWORD}
        return config | overrides
