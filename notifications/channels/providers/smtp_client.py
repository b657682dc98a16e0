"""A small asynchronous SMTP client for the pooled provider: one connection, kept open, sending message after
message. When the server offers PIPELINING (RFC 2920), MAIL, RCPT and DATA go out in one write and the message
in a second, so a message costs two round trips; without it, commands go one by one.

Implicit TLS, STARTTLS (required, opportunistic or off) and AUTH PLAIN/LOGIN are supported. Errors are raised
as SmtpReplyError (the server said no: its code decides permanent or transient), SmtpAuthError (credentials
refused), or OSError / asyncio.TimeoutError (the connection is unusable and is discarded)."""

from __future__ import annotations

import asyncio
import base64
import re
import socket
import ssl
from collections import deque
from functools import lru_cache

from notifications.errors import SmtpAuthError, SmtpReplyError, SmtpSessionRefused

_LINE_ENDINGS = re.compile(rb"\r\n|\n|\r(?!\n)")
_LEADING_DOT = re.compile(rb"(?m)^\.")
_MAX_REPLY_LINE = 8192


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._lines: list[bytes] = []
        self._replies: deque[tuple[int, str]] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._lost: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > _MAX_REPLY_LINE:
                    self._fail(ConnectionError("SMTP reply line too long"))
                return
            line = bytes(self._buffer[: end + 1]).rstrip(b"\r\n")
            del self._buffer[: end + 1]
            self._lines.append(line)
            if line[3:4] != b"-":
                lines, self._lines = self._lines, []
                try:
                    code = int(lines[-1][:3])
                except ValueError:
                    self._fail(ConnectionError("malformed SMTP reply"))
                    return
                text = "\n".join(item[4:].decode("utf-8", "replace") for item in lines)
                self._replies.append((code, text))
                if self._waiter is not None and not self._waiter.done():
                    self._waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or ConnectionError("SMTP connection closed"))

    def _fail(self, exc: BaseException) -> None:
        self._lost = exc
        if self.transport is not None:
            self.transport.close()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    async def reply(self, timeout: float) -> tuple[int, str]:
        while not self._replies:
            if self._lost is not None:
                raise ConnectionError("SMTP connection lost") from self._lost
            self._waiter = asyncio.get_running_loop().create_future()
            await asyncio.wait_for(self._waiter, timeout)
        return self._replies.popleft()

    def write(self, data: bytes) -> None:
        if self._lost is not None or self.transport is None or self.transport.is_closing():
            raise ConnectionError("SMTP connection lost")
        self.transport.write(data)


def _transparent(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF line endings, leading dots doubled (RFC 5321 4.5.2). Counting is
    cheaper than substituting, and composed messages rarely need either change."""
    crlf = data.count(b"\r\n")
    if data.count(b"\n") != crlf or data.count(b"\r") != crlf:
        data = _LINE_ENDINGS.sub(b"\r\n", data)
    if data.startswith(b".") or b"\n." in data:
        data = _LEADING_DOT.sub(b"..", data)
    return data


class SmtpConnection:
    def __init__(self, protocol: _Protocol, host: str, timeout: float) -> None:
        self._protocol = protocol
        self.host = host
        self.timeout = timeout
        self.extensions: dict[str, str] = {}
        self.broken = False  # replies out of step with commands, or the server is closing: not to be reused

    @property
    def is_connected(self) -> bool:
        transport = self._protocol.transport
        return (not self.broken and not self._protocol._replies and self._protocol._lost is None
                and transport is not None and not transport.is_closing())

    async def _reset(self) -> None:
        """RSET after a refused transaction; a connection that cannot be reset is not used again."""
        try:
            await self._command(b"RSET", (250,))
        except (SmtpReplyError, OSError, TimeoutError):
            self.broken = True

    async def _command(self, line: bytes, expect: tuple[int, ...]) -> tuple[int, str]:
        self._protocol.write(line + b"\r\n")
        code, text = await self._protocol.reply(self.timeout)
        if code not in expect:
            if code == 421:  # the server is closing the connection
                self.broken = True
            raise SmtpReplyError(code, text)
        return code, text

    async def _ehlo(self) -> None:
        _, text = await self._command(b"EHLO " + _local_name().encode("ascii"), (250,))
        self.extensions = {}
        for line in text.split("\n")[1:]:
            keyword, _, parameters = line.partition(" ")
            self.extensions[keyword.upper()] = parameters

    async def _login(self, username: str, password: str) -> None:
        mechanisms = self.extensions.get("AUTH", "").upper().split()
        try:
            if "PLAIN" in mechanisms or "LOGIN" not in mechanisms:
                token = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
                await self._command(f"AUTH PLAIN {token}".encode("ascii"), (235,))
            else:
                await self._command(b"AUTH LOGIN", (334,))
                await self._command(base64.b64encode(username.encode()), (334,))
                await self._command(base64.b64encode(password.encode()), (235,))
        except SmtpReplyError as err:
            raise SmtpAuthError(err.code, err.text) from None

    async def send(self, sender: str, recipient: str, data: bytes) -> None:
        """One message to one recipient; returns when the server has accepted it."""
        utf8 = not (sender.isascii() and recipient.isascii())
        if utf8 and "SMTPUTF8" not in self.extensions:
            raise SmtpReplyError(553, "the server does not accept non-ASCII addresses (no SMTPUTF8)")
        for address in (sender, recipient):
            if any(c in address for c in "<>\r\n"):
                raise SmtpReplyError(553, "malformed address")
        mail = b"MAIL FROM:<%s>%s" % (sender.encode(), b" SMTPUTF8" if utf8 else b"")
        rcpt = b"RCPT TO:<%s>" % recipient.encode()
        payload = _transparent(data)
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        payload += b".\r\n"
        protocol = self._protocol
        if "PIPELINING" not in self.extensions:
            try:
                await self._command(mail, (250,))
                await self._command(rcpt, (250, 251))
                await self._command(b"DATA", (354,))
            except SmtpReplyError:
                await self._reset()  # the connection stays usable for the next message
                raise
            protocol.write(payload)
            code, text = await protocol.reply(self.timeout)
            if code != 250:
                self.broken = self.broken or code == 421
                raise SmtpReplyError(code, text)
            return
        protocol.write(mail + b"\r\n" + rcpt + b"\r\nDATA\r\n")
        replies = [await protocol.reply(self.timeout) for _ in range(3)]
        expected = ((250,), (250, 251), (354,))
        refused = next(((code, text) for (code, text), accepted in zip(replies, expected, strict=True)
                        if code not in accepted), None)
        if refused is not None:
            if replies[2][0] == 354:  # DATA was taken despite the refusal: end an empty message
                protocol.write(b".\r\n")
                await protocol.reply(self.timeout)
            if refused[0] == 421:
                self.broken = True
            else:
                await self._reset()
            raise SmtpReplyError(*refused)
        protocol.write(payload)
        code, text = await protocol.reply(self.timeout)
        if code != 250:
            self.broken = self.broken or code == 421
            raise SmtpReplyError(code, text)

    async def quit(self) -> None:
        try:
            await self._command(b"QUIT", (221,))
        finally:
            self.close()

    def close(self) -> None:
        if self._protocol.transport is not None:
            self._protocol.transport.close()


async def connect(host: str, port: int, *, use_tls: bool = False, start_tls: bool | None = None,
                  validate_certs: bool = True, timeout: float = 10.0, username: str = "",
                  password: str = "") -> SmtpConnection:
    """Open, greet, EHLO, secure (implicit TLS or STARTTLS) and authenticate a connection."""
    loop = asyncio.get_running_loop()
    context = _tls_context(validate_certs) if use_tls or start_tls is not False else None
    transport, protocol = await asyncio.wait_for(
        loop.create_connection(_Protocol, host, port, ssl=context if use_tls else None,
                               server_hostname=host if use_tls else None),
        timeout,
    )
    connection = SmtpConnection(protocol, host, timeout)
    try:
        code, text = await protocol.reply(timeout)
        if code != 220:
            raise SmtpReplyError(code, text)
        await connection._ehlo()
        if not use_tls and start_tls is not False and context is not None:  # (the context is made for it)
            if "STARTTLS" in connection.extensions:
                await connection._command(b"STARTTLS", (220,))
                if protocol._buffer or protocol._lines or protocol._replies:
                    # Bytes after the 220 came in plaintext: someone on the path is injecting replies.
                    raise ConnectionError("unexpected data after STARTTLS")
                secured = await asyncio.wait_for(
                    loop.start_tls(transport, protocol, context, server_hostname=host), timeout)
                protocol.transport = secured
                await connection._ehlo()
            elif start_tls or (username and start_tls is None):
                # Required, or credentials would go out in clear (a stripped STARTTLS is a downgrade attack);
                # `start_tls: false` is the explicit way to authenticate without TLS.
                raise ConnectionError("the server does not offer STARTTLS")
        if username:
            await connection._login(username, password)
    except SmtpAuthError:
        connection.close()
        raise
    except SmtpReplyError as err:
        connection.close()
        raise SmtpSessionRefused(f"SMTP {err.code}") from None
    except BaseException:
        connection.close()
        raise
    return connection


def _tls_context(validate: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not validate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@lru_cache(maxsize=1)
def _local_name() -> str:
    name = socket.getfqdn()
    return name if name.isascii() and name else "localhost"
