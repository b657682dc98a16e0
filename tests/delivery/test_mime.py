"""The volume e-mail path writes MIME itself: what a mail client parses out of it must be what was rendered."""

from __future__ import annotations

import email
from email import policy

import pytest

from notifications.channels.mime import compose


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data.replace(b"\n", b"\r\n"), policy=policy.default)


def bodies(message: email.message.EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


@pytest.mark.parametrize(
    ("subject", "text", "html"),
    [
        ("New sign-in to your Acme account", "Hello John,\nwe saw a new sign-in.\n", "<p>Hello <b>John</b></p>"),
        ("Rechnung über 12,50 € fällig – bitte zahlen", "Grüße\n" + "é" * 300 + "\n", "<p>Grüße 😀</p>"),
        ("x" * 200, "a line of ASCII " * 80, ""),
        ("Line\nbreak\r\ninjected: X-Evil: 1", ".leading dot\n..two dots\n", ""),
    ],
)
def test_parsed_back_it_is_what_was_composed(subject, text, html):
    data = compose(from_email="Acme Alerts <alerts@acme.example>", to="John Doe <john@example.com>",
                   subject=subject, text=text, html=html,
                   headers={"Message-ID": "<1@notifications.local>", "X-Notification-Record": "42"})
    assert max(len(line) for line in data.split(b"\n")) <= 998
    message = parse(data)
    assert message["Subject"] == " ".join(subject.splitlines())
    assert message["X-Evil"] is None
    assert message["From"].addresses[0].addr_spec == "alerts@acme.example"
    assert message["From"].addresses[0].display_name == "Acme Alerts"
    assert message["To"].addresses[0].addr_spec == "john@example.com"
    assert message["Message-ID"] == "<1@notifications.local>" and message["X-Notification-Record"] == "42"
    assert message["Date"] is not None and message["MIME-Version"] == "1.0"
    parts = bodies(message)
    assert parts["text/plain"].replace("\r\n", "\n").rstrip("\n") == text.rstrip("\n")
    if html:
        assert message.get_content_type() == "multipart/alternative"
        assert parts["text/html"].replace("\r\n", "\n").rstrip("\n") == html
    else:
        assert set(parts) == {"text/plain"}


def test_non_ascii_names_and_domains_are_encoded():
    data = compose(from_email="Jürgen Müller <j@acme.example>", to="Zoë <zoe@bücher.example>", subject="Hi",
                   text="hi")
    assert data.isascii()
    message = parse(data)
    assert message["From"].addresses[0].display_name == "Jürgen Müller"
    assert message["To"].addresses[0].display_name == "Zoë"
    assert message["To"].addresses[0].domain == "xn--bcher-kva.example"
