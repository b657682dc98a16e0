"""E-mail against a real SMTP server on loopback (aiosmtpd): the pooled async provider with STARTTLS and AUTH,
Django's SMTP backend, and a server that is down for a while."""

from __future__ import annotations

import datetime
import socket
import ssl
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from notifications.delivery.worker import deliver_until_idle
from notifications.enums import Status
from notifications.events.registry import event_registry
from notifications.models import DeliveryAttempt, NotificationRecord
from notifications.testing import make_event
from tests.fixtures import add_provider

pytestmark = pytest.mark.django_db


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.connections: set[Any] = set()

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list) -> list:
        self.connections.add(session.peer)  # the client's address and port: one per TCP connection
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed(tmp_path: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"mailer", b"s3cret")
    return AuthResult(success=ok, handled=False)


def deliver_via_smtp(tenant_id: str, handler: Any, options: dict | None = None, credentials: dict | None = None,
                     events: list[dict] | None = None, **server_options: Any) -> None:
    """Serve `handler` on a loopback SMTP server, point the tenant's `smtp` provider at it (`options` on top of
    host and port), take `events` in (one sign-in notification by default) and deliver until idle."""
    port = free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port, **server_options)
    server.start()
    try:
        add_provider(tenant_id, "email", "smtp", {"host": "127.0.0.1", "port": port, **(options or {})}, credentials)
        for event in events or [make_event("user.login.succeeded")]:
            event_registry.process_event(event)
        deliver_until_idle()
    finally:
        server.stop()


def test_smtp_down_for_a_while_is_retried_then_delivered_once(tenant):
    port = free_port()
    add_provider(tenant.id, "email", "smtp", {"host": "127.0.0.1", "port": port, "start_tls": False, "timeout": 2})
    event_registry.process_event(make_event("user.login.succeeded"))

    deliver_until_idle()  # nobody listens yet
    record = NotificationRecord.objects.get()
    assert (record.status, record.reason) == (Status.RETRYING, "connection_error")

    mailbox = Mailbox()
    server = Controller(mailbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        NotificationRecord.objects.update(next_attempt_at=timezone.now())
        deliver_until_idle()
        deliver_until_idle()  # nothing left to do: no second copy
    finally:
        server.stop()

    record.refresh_from_db()
    assert (record.status, record.attempts, record.provider) == (Status.SENT, 2, "smtp")
    [(recipients, message)] = mailbox.messages
    assert recipients == ["john@example.com"]
    assert message["Subject"] == "New sign-in to your Acme account"
    assert message["X-Notification-Record"] == str(record.pk)
    assert list(DeliveryAttempt.objects.values_list("outcome", "error_code")) == [
        ("transient", "connection_error"), ("sent", "")]


def test_pooled_smtp_with_starttls_and_auth_reuses_connections(tenant, tmp_path):
    mailbox = Mailbox()
    deliver_via_smtp(tenant.id, mailbox, {"start_tls": True, "validate_certs": False, "pool_size": 3},
                     {"username": "mailer", "password": "s3cret"},
                     [make_event("user.login.succeeded", user_id=f"user-{n}", email=f"user{n}@example.com")
                      for n in range(30)],
                     tls_context=self_signed(tmp_path), require_starttls=True, authenticator=authenticator,
                     auth_required=True)

    assert NotificationRecord.objects.filter(status=Status.SENT).count() == 30
    assert len(mailbox.messages) == 30
    assert sorted(r[0] for r, _ in mailbox.messages) == sorted(f"user{n}@example.com" for n in range(30))
    assert len(mailbox.connections) <= 3  # 30 messages over at most pool_size connections


def test_smtp_wrong_password_is_not_delivered(tenant, tmp_path):
    mailbox = Mailbox()
    deliver_via_smtp(tenant.id, mailbox, {"start_tls": True, "validate_certs": False},
                     {"username": "mailer", "password": "wrong"}, tls_context=self_signed(tmp_path),
                     require_starttls=True, authenticator=authenticator, auth_required=True)

    record = NotificationRecord.objects.get()
    assert record.status == Status.RETRYING and mailbox.messages == []
    assert "wrong" not in record.error_detail


def test_smtp_permanent_rejection_fails_at_once(tenant):
    class Refusing(Mailbox):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 No such user"

    deliver_via_smtp(tenant.id, Refusing(), {"start_tls": False})

    record = NotificationRecord.objects.get()
    assert (record.status, record.reason) == (Status.FAILED, "smtp_550")


def test_django_smtp_backend_delivers_to_a_real_server(tenant, settings):
    port = free_port()
    mailbox = Mailbox()
    server = Controller(mailbox, hostname="127.0.0.1", port=port)
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    try:
        event_registry.process_event(make_event("task.assigned"))
        deliver_until_idle()
    finally:
        server.stop()

    email = NotificationRecord.objects.get(channel="email")
    assert (email.status, email.provider) == (Status.SENT, "django")
    [(recipients, message)] = mailbox.messages
    assert recipients == ["john@example.com"] and message["Subject"] == "New task: Review Q4 budget"
    assert message.is_multipart()  # text and HTML alternatives


class PipeliningMailbox(Mailbox):
    """A server that offers PIPELINING (RFC 2920): the provider then sends MAIL, RCPT and DATA in one write."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        super().__init__()
        self.refuse = refuse or set()
        self.commands: list[str] = []

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list) -> list:
        responses = await super().handle_EHLO(server, session, envelope, hostname, responses)
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list) -> str:
        self.commands.append(f"RCPT {address}")
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_RSET(self, server: Any, session: Any, envelope: Any) -> str:
        self.commands.append("RSET")
        return "250 OK"


def test_pipelined_smtp_delivers_refuses_and_recovers_on_one_connection(tenant):
    mailbox = PipeliningMailbox(refuse={"gone@example.com"})
    deliver_via_smtp(tenant.id, mailbox, {"start_tls": False, "pool_size": 1}, events=[
        make_event("user.login.succeeded", user_id=f"u-{n}", email=address)
        for n, address in enumerate(["a@example.com", "gone@example.com", "b@example.com"])])

    by_recipient = dict(NotificationRecord.objects.filter(channel="email").values_list("recipient", "status"))
    assert by_recipient == {"a@example.com": Status.SENT, "gone@example.com": Status.FAILED,
                            "b@example.com": Status.SENT}
    assert NotificationRecord.objects.get(recipient="gone@example.com").reason == "smtp_550"
    assert sorted(recipients[0] for recipients, _ in mailbox.messages) == ["a@example.com", "b@example.com"]
    assert "RSET" in mailbox.commands  # the refused transaction was reset, not the connection dropped
    assert len(mailbox.connections) == 1
    for _, message in mailbox.messages:
        assert message["Subject"] == "New sign-in to your Acme account"
        assert message.is_multipart() or message.get_payload()


def test_credentials_never_go_out_without_tls(tenant):
    """A server (or a man in the middle stripping it) that does not offer STARTTLS gets no AUTH: the message
    waits for a retry instead of the password crossing the network in clear."""
    attempts: list[str] = []

    def recording(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        attempts.append(mechanism)
        return AuthResult(success=True)

    deliver_via_smtp(tenant.id, Mailbox(), {}, {"username": "mailer", "password": "s3cret"},
                     authenticator=recording, auth_require_tls=False)

    record = NotificationRecord.objects.get(channel="email")
    assert (record.status, record.reason) == (Status.RETRYING, "connection_error")
    assert attempts == []


def test_a_server_refusing_the_session_is_a_transient_failure(tenant):
    class Unavailable(Mailbox):
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            return ["554 5.7.1 Service unavailable"]

    deliver_via_smtp(tenant.id, Unavailable(), {"start_tls": False})

    record = NotificationRecord.objects.get(channel="email")
    assert (record.status, record.reason) == (Status.RETRYING, "connection_error")


@given(st.lists(st.sampled_from([b"a", b".", b"..", b"\r", b"\n", b"\r\n", b" ", b"x.y"]), max_size=30))
def test_data_transparency_matches_the_full_substitution(parts):
    """The counting fast path gives what substituting every line ending and leading dot gives."""
    from notifications.channels.providers.smtp_client import _LEADING_DOT, _LINE_ENDINGS, _transparent

    data = b"".join(parts)

    assert _transparent(data) == _LEADING_DOT.sub(b"..", _LINE_ENDINGS.sub(b"\r\n", data))
