"""notifications/i18n: catalogs compiled from the .po files in memory (no msgfmt, no committed .mo), plural
rules from each catalog's header, the language of a fallback chain."""

from __future__ import annotations

import gettext

import pytest

from notifications.i18n import LANGUAGES, LOCALE_DIR, po_path, text_language, translations


def test_a_fresh_clone_needs_no_compile_step():
    assert not list(LOCALE_DIR.rglob("*.mo"))  # nothing compiled is shipped: the .po files are read
    for language in LANGUAGES[1:]:
        assert po_path(language).exists()
        assert isinstance(translations(language), gettext.GNUTranslations)


@pytest.mark.parametrize(("language", "expected"), [
    # French takes 0 as singular; German and Spanish take it as plural.
    ("fr", ["dans 0 minute", "dans 1 minute", "dans 2 minutes"]),
    ("de", ["in 0 Minuten", "in 1 Minute", "in 2 Minuten"]),
    ("es", ["en 0 minutos", "en 1 minuto", "en 2 minutos"]),
    ("en", ["in 0 minutes", "in 1 minute", "in 2 minutes"]),
])
def test_plural_forms_follow_each_languages_rule(language, expected):
    catalog = translations(language)
    texts = [catalog.ngettext("in %(count)s minute", "in %(count)s minutes", n) % {"count": n} for n in (0, 1, 2)]
    assert texts == expected


def test_english_and_unknown_languages_are_the_identity():
    assert translations("en").gettext("Someone") == "Someone"
    assert translations("xx").gettext("Someone") == "Someone"
    assert translations("de").gettext("Someone") == "Jemand"


def test_text_language_is_the_first_locale_of_the_chain_with_a_catalog():
    assert text_language(("de-AT", "de", "en")) == "de"
    assert text_language(("ja", "fr", "en")) == "fr"
    assert text_language(("ja",)) == "en"
