"""MIME composition for the volume e-mail path.

Building a message with Django's EmailMultiAlternatives and flattening it through the standard library's
email.generator costs about half a millisecond (header folding alone is a third of it), more than the SMTP
exchange itself. A notification is always the same shape (text, optionally an HTML alternative, a few headers),
so it is written here directly: ASCII header values go out as they are, anything else through the standard
library's encoders; bodies are quoted-printable UTF-8 (7bit when they are short-lined ASCII).
"""

from __future__ import annotations

import binascii
import uuid
from email.header import Header
from email.utils import formatdate
from functools import lru_cache

from django.core.mail.message import sanitize_address

_MAX_PLAIN_HEADER = 900  # RFC 5322 allows 998 characters a line; longer ones are folded by the encoder


def _plain(value: str) -> bool:
    return value.isascii() and "\r" not in value and "\n" not in value and len(value) <= _MAX_PLAIN_HEADER


def header_value(value: str) -> str:
    """A header's value: as it is when it is short ASCII, RFC 2047 encoded words otherwise. Line breaks
    cannot inject headers: they become spaces."""
    if _plain(value):
        return value
    value = " ".join(value.splitlines())
    if _plain(value):
        return value
    return Header(value, "utf-8", maxlinelen=76).encode()


@lru_cache(maxsize=4096)
def address(value: str) -> str:
    """An address header's value (`Name <local@domain>` or `local@domain`), encoded as Django would."""
    if _plain(value) and not any(c in value for c in '<>",;:()[]\\'):  # a bare address
        return value
    return sanitize_address(value, "utf-8")


def _body(text: str, subtype: str) -> list[str]:
    if text.isascii() and all(len(line) <= 900 for line in text.split("\n")):
        return [f'Content-Type: text/{subtype}; charset="utf-8"', "Content-Transfer-Encoding: 7bit", "", text]
    encoded = binascii.b2a_qp(text.encode("utf-8")).decode("ascii")
    return [f'Content-Type: text/{subtype}; charset="utf-8"', "Content-Transfer-Encoding: quoted-printable", "",
            encoded]


def compose(*, from_email: str, to: str, subject: str, text: str, html: str = "",
            headers: dict[str, str] | None = None) -> bytes:
    """The message as bytes, ready for SMTP DATA (the SMTP client normalises line endings and dot-stuffs)."""
    lines = [
        f"From: {address(from_email)}",
        f"To: {address(to)}",
        f"Subject: {header_value(subject)}",
        f"Date: {formatdate(usegmt=True)}",
        "MIME-Version: 1.0",
    ]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {header_value(value)}")
    if html:
        boundary = f"=_{uuid.uuid4().hex}"
        lines += [f'Content-Type: multipart/alternative; boundary="{boundary}"', "",
                  f"--{boundary}", *_body(text, "plain"), f"--{boundary}", *_body(html, "html"), f"--{boundary}--"]
    else:
        lines += _body(text, "plain")
    return ("\n".join(lines) + "\n").encode("ascii")
