"""The messages of the built-in texts, and the catalogs kept in step with them: what `manage.py
notification_messages extract` writes and `check` verifies (tests/rendering/test_messages.py runs the check).

Messages come from the `{% trans %}` blocks of the built-in handlers' default templates and the digests'
(parsed with Jinja's own i18n extension: the message ids are exactly those rendering.translate looks up), and
from the `gettext`/`ngettext` calls of the Python modules that build texts (handlers' finalize_context)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po, write_po
from jinja2.ext import GETTEXT_FUNCTIONS, InternationalizationExtension, extract_from_ast
from jinja2.sandbox import SandboxedEnvironment

from notifications.digests import render as digest_render
from notifications.events.handlers import BUILTIN_HANDLERS, texts
from notifications.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, SOURCE_LANGUAGE, po_path

#: Python modules whose gettext/ngettext calls are messages.
PYTHON_SOURCES = (texts, digest_render, *{inspect.getmodule(cls) for cls in BUILTIN_HANDLERS})
TEMPLATE_PATH = LOCALE_DIR / f"{DOMAIN}.pot"
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}  # texts.N_: a message marked where it is not yet translated


def _template_sources() -> Iterator[tuple[str, str]]:
    """(where, Jinja source) of every built-in default text."""
    for handler_cls in BUILTIN_HANDLERS:
        for channel, sources in handler_cls.default_templates.items():
            for name, source in sources.items():
                yield f"{handler_cls.__name__}/{channel.value}.{name}", source
    for event_type, channels in digest_render.DEFAULT_DIGEST_TEMPLATES.items():
        for digest_channel, sources in channels.items():
            for name, source in sources.items():
                yield f"digest/{event_type}/{digest_channel}.{name}", source
    for generic_channel, sources in digest_render.GENERIC_DIGEST_TEMPLATES.items():
        for name, source in sources.items():
            yield f"digest/generic/{generic_channel}.{name}", source


def extract() -> Catalog:
    """The catalog template: every message of the built-in texts, English."""
    catalog = Catalog(domain=DOMAIN, project="notifications", locale=None)
    env = SandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[InternationalizationExtension])
    for where, source in _template_sources():
        for lineno, _function, message in extract_from_ast(env.parse(source), GETTEXT_FUNCTIONS, babel_style=True):
            strings = _strings(message)  # ngettext's: (singular, plural, None): the count is no string
            catalog.add(strings[0] if len(strings) == 1 else tuple(strings), locations=[(where, lineno)],
                        flags=["python-format"] if _PLACEHOLDER.search(strings[0]) else [])
    for module in PYTHON_SOURCES:
        path = Path(getattr(module, "__file__", None) or "")
        for lineno, message, _comments, _context in extract_from_file("python", str(path), keywords=_KEYWORDS):
            catalog.add(message, locations=[(path.relative_to(LOCALE_DIR.parent).as_posix(), lineno)],
                        flags=["python-format"])
    return catalog


def _translations(string: object) -> list[str]:
    return list(string) if isinstance(string, (list, tuple)) else [str(string or "")]


def _strings(message: object) -> list[str]:
    return [part for part in (message if isinstance(message, tuple) else (message,)) if isinstance(part, str)]


@dataclass
class Problems:
    """What is wrong with a language's catalog, by message id."""
    missing: list[str] = field(default_factory=list)
    untranslated: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)  # a translation whose %(name)s differ from the id's
    obsolete: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.missing or self.untranslated or self.placeholders or self.obsolete)


def check(language: str, template: Catalog | None = None) -> Problems:
    template = template or extract()
    with po_path(language).open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    problems = Problems()
    wanted = {message.id if isinstance(message.id, str) else message.id[0]: message
              for message in template if message.id}
    for key, message in wanted.items():
        found = catalog.get(message.id)
        if found is None:
            problems.missing.append(key)
            continue
        strings = _translations(found.string)
        if found.fuzzy or not all(strings):
            problems.untranslated.append(key)
            continue
        ids = set(_PLACEHOLDER.findall(" ".join(_strings(message.id))))
        if any(set(_PLACEHOLDER.findall(text)) - ids for text in strings):
            problems.placeholders.append(key)
    problems.obsolete = sorted(str(m.id if isinstance(m.id, str) else m.id[0]) for m in catalog
                               if m.id and catalog.get(m.id) is not None and
                               (m.id if isinstance(m.id, str) else m.id[0]) not in wanted)
    return problems


def update() -> dict[str, int]:
    """Write the catalog template and merge it into each language's catalog (new messages untranslated,
    removed ones dropped). Returns how many messages each catalog lacks a translation for."""
    template = extract()
    _write(TEMPLATE_PATH, template)
    untranslated = {}
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        path = po_path(language)
        if path.exists():
            with path.open("rb") as source:
                catalog = read_po(source, locale=language, domain=DOMAIN)
        else:
            catalog = Catalog(locale=language, domain=DOMAIN, project="notifications")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        _write(path, catalog)
        untranslated[language] = sum(1 for m in catalog if m.id and not all(_translations(m.string)))
    return untranslated


def _write(path: Path, catalog: Catalog) -> None:
    buffer = BytesIO()
    write_po(buffer, catalog, width=120, omit_header=False, sort_output=False, include_previous=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


__all__ = ["TEMPLATE_PATH", "Problems", "check", "extract", "update"]
