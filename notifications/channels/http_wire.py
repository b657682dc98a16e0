"""The HTTP/1.1 wire format of the provider client (http_client.py): URL splitting with its rules, the request
head, the answer and its headers. Kept apart from the connection handling so the transports (transport.py) share
one set of URL rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

USER_AGENT = "django-kafka-notifications"
MAX_HEAD = 64 * 1024
MAX_BODY = 4 * 1024 * 1024
IDLE_SECONDS = 15.0  # below the keep-alive timeout of common servers (nginx 75 s, Apache 5 s is read from Keep-Alive)
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_LINE_BREAK = re.compile(r"[\r\n\0]")


class Headers(dict[str, str]):
    """Answer headers by lower-cased name; get() and [] accept any case. Repeated headers are joined by ", "."""

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())


@dataclass(slots=True)
class HttpResponse:
    status: int
    headers: Headers
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class _Origin:
    scheme: str
    host: str
    port: int
    host_header: str


@lru_cache(maxsize=1024)
def _split(url: str) -> tuple[_Origin, str]:
    if _LINE_BREAK.search(url):  # checked before urlsplit(), which silently deletes CR and LF
        raise ValueError("URL contains a line break or space")
    try:
        parts = urlsplit(url)
    except ValueError:  # its message can quote the URL, credentials included
        raise ValueError("URL cannot be parsed") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {parts.scheme!r}: http or https")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("URL has an invalid port") from None
    host = parts.hostname
    if not host:
        raise ValueError("URL has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials in the URL are not supported: use the provider's credentials")
    default = 443 if parts.scheme == "https" else 80
    port = port or default
    if not host.isascii():  # an internationalised domain name: its ASCII form (punycode) goes on the wire
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError("URL host is not a valid domain name") from None
    shown = f"[{host}]" if ":" in host else host
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if " " in target:
        raise ValueError("URL contains a line break or space")
    # Characters a request line cannot carry raw (non-ASCII, quotes, braces) are percent-encoded; '%' is kept,
    # so a URL given already encoded is not encoded twice.
    target = quote(target, safe="/?&=%:@!$'()*+,;~-._#[]")
    return _Origin(parts.scheme, host, port, shown if port == default else f"{shown}:{port}"), target


def _head(method: str, target: str, origin: _Origin, headers: dict[str, str], length: int) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {origin.host_header}"]
    given = set()
    for name, value in headers.items():
        value = str(value)
        if not name or ":" in name or _LINE_BREAK.search(name) or _LINE_BREAK.search(value):
            raise ValueError(f"header {name.strip()[:40]!r} contains a line break")
        given.add(name.lower())
        lines.append(f"{name}: {value}")
    if "user-agent" not in given:
        lines.append(f"User-Agent: {USER_AGENT}")
    if "content-length" not in given and (length or method not in ("GET", "HEAD", "DELETE", "OPTIONS")):
        lines.append(f"Content-Length: {length}")
    lines.append("\r\n")
    try:
        return "\r\n".join(lines).encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError("a header is not Latin-1: encode it as the API asks") from None
