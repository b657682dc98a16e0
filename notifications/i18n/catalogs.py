"""Loading the catalogs: `.po` -> Babel's reader -> an in-memory `.mo` -> gettext.GNUTranslations (which reads
the catalog's Plural-Forms header: French `n > 1`, German and Spanish `n != 1`). Once per language and process
(about 10 ms each); warm_up() loads them before a worker's first batch."""

from __future__ import annotations

import gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "notifications"
SOURCE_LANGUAGE = "en"
#: The languages the built-in texts exist in; each but the source has a catalog under LOCALE_DIR.
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> gettext.NullTranslations:
    """The language's translations; the identity (NullTranslations) for English and for a language without a
    catalog. Fuzzy entries are left out, as msgfmt leaves them out."""
    if language == SOURCE_LANGUAGE or language not in LANGUAGES:
        return gettext.NullTranslations()
    with po_path(language).open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@lru_cache(maxsize=1024)
def text_language(chain: tuple[str, ...]) -> str:
    """The first locale of `chain` that is one of LANGUAGES ('de-AT', 'de', 'en' -> 'de'); the source language
    when none is."""
    return next((locale for locale in chain if locale in LANGUAGES), SOURCE_LANGUAGE)
