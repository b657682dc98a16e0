"""The built-in texts in German, French and Spanish (notifications/locale), chosen by the recipient's locale,
through the real delivery path: intake plans the records, the worker renders them and the e-mail backend writes
them into the mail folder. Formal address, and plural forms per language (French takes 0 as singular)."""

from __future__ import annotations

import email
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from notifications.enums import Channel
from notifications.events.registry import event_registry
from notifications.rendering.context import build_context
from notifications.testing import EXAMPLE_PAYLOADS, make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailed(settings, deliver):
    """Publish events, run the worker, and return the e-mails written (subject, text body), oldest first."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"

    def run(*events):
        for event in events:
            event_registry.process_event(event)
        deliver()
        found = []
        for path in sorted(Path(settings.EMAIL_FILE_PATH).iterdir(), key=lambda p: p.stat().st_mtime_ns):
            for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if not raw.strip():
                    continue
                message = email.message_from_bytes(raw)
                text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
                body = text.get_payload(decode=True).decode(text.get_content_charset() or "utf-8")
                found.append((str(make_header(decode_header(message["Subject"]))), body))
        return found

    return run


@pytest.mark.parametrize(("locale", "subject", "phrases"), [
    ("de-DE", "Sicherheitswarnung: fehlgeschlagene Anmeldung bei Ihrem Acme-Konto",
     ["Wir haben am", "2 fehlgeschlagene Anmeldeversuche", "ändern Sie Ihr Passwort"]),
    ("fr", "Alerte de sécurité : échec de connexion à votre compte Acme",
     ["2 tentatives de connexion échouées", "Si ce n'était pas vous, changez votre mot de passe"]),
    ("es-MX", "Alerta de seguridad: inicio de sesión fallido en su cuenta de Acme",
     ["2 intentos fallidos de inicio de sesión", "Si no ha sido usted, cambie su contraseña"]),
])
def test_failed_sign_in_mail_in_the_recipients_language(tenant, mailed, locale, subject, phrases):
    [(sent_subject, body)] = mailed(make_event("user.login.failed", locale=locale, attempt_count=2, phone=None))
    assert sent_subject == subject
    for phrase in phrases:
        assert phrase in body
    assert "Hi" not in body and "you" not in body.split()  # nothing left in English


@pytest.mark.parametrize(("locale", "expected"), [
    ("de", ["0 fehlgeschlagene Anmeldeversuche", "1 fehlgeschlagenen Anmeldeversuch",
            "2 fehlgeschlagene Anmeldeversuche"]),
    ("fr", ["0 tentative de connexion échouée", "1 tentative de connexion échouée",
            "2 tentatives de connexion échouées"]),
    ("es", ["0 intentos fallidos", "1 intento fallido", "2 intentos fallidos"]),
    ("en", ["0 failed sign-in attempts", "1 failed sign-in attempt to", "2 failed sign-in attempts"]),
])
def test_attempt_counts_0_1_2_take_each_languages_plural_form(tenant, mailed, locale, expected):
    sent = mailed(*(make_event("user.login.failed", locale=locale, attempt_count=count, phone=None,
                               ip_address=f"198.51.100.{count}") for count in (0, 1, 2)))
    bodies = sorted((body for _, body in sent), key=lambda body: body.split("198.51.100.")[1][:1])
    assert [phrase in body for phrase, body in zip(expected, bodies, strict=True)] == [True, True, True]


@pytest.mark.parametrize(("locale", "subject", "greeting", "mention"), [
    ("de", "Jemand hat Sie in Launch plan erwähnt", "Guten Tag,", "Jemand hat Sie in einem Kommentar zu"),
    ("fr", "Quelqu'un vous a mentionné dans Launch plan", "Bonjour,", "Quelqu'un vous a mentionné dans un"),
    ("es", "Alguien le ha mencionado en Launch plan", "Hola:", "Alguien le ha mencionado en un comentario"),
])
def test_a_missing_display_field_reads_someone_in_the_recipients_language(tenant, mailed, locale, subject,
                                                                          greeting, mention):
    [(sent_subject, body)] = mailed(make_event("comment.mentioned", locale=locale, mentioned_by=None))
    assert sent_subject == subject
    assert body.startswith(greeting) and mention in body


def test_formal_address_in_every_language(tenant):
    handler = event_registry.handler_for("invoice.payment.failed")
    texts = {}
    for locale in ("de", "fr", "es"):
        context = build_context(handler, event_type="invoice.payment.failed", tenant=tenant, contact={},
                                payload={**handler.load_payload(EXAMPLE_PAYLOADS["invoice.payment.failed"]),
                                         "locale": locale})
        texts[locale] = " ".join(handler.get_content(Channel.EMAIL, "invoice.payment.failed", context).values())
    assert "Ihre" in texts["de"] and " du " not in texts["de"] and "dein" not in texts["de"].lower()
    assert "vos informations" in texts["fr"] and " tu " not in texts["fr"] and " ton " not in texts["fr"]
    assert "actualice sus datos" in texts["es"] and "actualiza tus" not in texts["es"]


@pytest.mark.parametrize(("locale", "texts"), [
    ("de", ["Jane Smith hat Ihren Beitrag „My first post“ mit „Gefällt mir“ markiert",
            "Jane Smith und 1 weitere Person haben", "Jane Smith und 2 weitere Personen haben"]),
    ("fr", ["Jane Smith a aimé votre publication", "Jane Smith et 1 autre personne ont aimé",
            "Jane Smith et 2 autres personnes ont aimé"]),
    ("es", ["A Jane Smith le ha gustado su publicación", "A Jane Smith y 1 persona más les ha gustado",
            "A Jane Smith y 2 personas más les ha gustado"]),
])
def test_like_counts_take_each_languages_plural_form(tenant, locale, texts):
    handler = event_registry.handler_for("content.liked")
    titles = []
    for like_count in (1, 2, 3):  # others: 0, 1, 2
        payload = handler.load_payload({**EXAMPLE_PAYLOADS["content.liked"], "like_count": like_count})
        context = build_context(handler, event_type="content.liked", tenant=tenant, contact={},
                                payload={**payload, "locale": locale})
        titles.append(handler.get_content(Channel.PUSH, "content.liked", context)["body"])
    assert [title.startswith(text) for title, text in zip(titles, texts, strict=True)] == [True, True, True]


@pytest.mark.parametrize(("locale", "method", "reason"), [
    ("de", "Kreditkarte", "unzureichende Kontodeckung"), ("fr", "carte de crédit", "provision insuffisante"),
    ("es", "tarjeta de crédito", "fondos insuficientes"), ("en", "credit card", "insufficient funds"),
])
def test_known_payload_codes_read_in_the_recipients_language(tenant, locale, method, reason):
    handler = event_registry.handler_for("invoice.payment.failed")
    context = build_context(handler, event_type="invoice.payment.failed", tenant=tenant, contact={},
                            payload={**handler.load_payload(EXAMPLE_PAYLOADS["invoice.payment.failed"]),
                                     "locale": locale})
    assert (context["payment_method_text"], context["failure_reason_text"]) == (method, reason)
    unknown = build_context(handler, event_type="invoice.payment.failed", tenant=tenant, contact={},
                            payload={**handler.load_payload(EXAMPLE_PAYLOADS["invoice.payment.failed"]),
                                     "locale": locale, "failure_reason": "Do_Not_Honor"})
    assert unknown["failure_reason_text"] == "Do Not Honor"  # no catalog knows it: humanized, as in English
