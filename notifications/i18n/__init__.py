"""The built-in texts' translations: gettext catalogs (`notifications/locale/<lang>/LC_MESSAGES/notifications.po`)
compiled in memory with Babel's pure-Python tools the first time a language is used, so a fresh clone needs no
`msgfmt` and no compile step. English is the source language: its catalog is the identity.

`text_language(chain)`: the first locale of a fallback chain (rendering.locales.fallback_chain) that has a
catalog, the language a built-in text is shown in."""

from notifications.i18n.catalogs import (
    DOMAIN,
    LANGUAGES,
    LOCALE_DIR,
    SOURCE_LANGUAGE,
    po_path,
    text_language,
    translations,
)

__all__ = ["DOMAIN", "LANGUAGES", "LOCALE_DIR", "SOURCE_LANGUAGE", "po_path", "text_language", "translations"]
