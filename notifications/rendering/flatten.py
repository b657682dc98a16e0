"""A built-in text as a plain template in one language: each `{% trans %}` block replaced by its translation,
its variables written back as `{{ expression }}` and a plural block as an `{% if %}` over its forms. What
`seed_event_templates --locale de` writes, so that a tenant edits German text rather than message ids.

Rendering the flat text gives what rendering the original in that language gives
(tests/rendering/test_flatten.py checks every built-in text in every language)."""

from __future__ import annotations

import re
from typing import Any

from jinja2.ext import GETTEXT_FUNCTIONS, InternationalizationExtension, extract_from_ast
from jinja2.sandbox import SandboxedEnvironment

from notifications.i18n import translations
from notifications.rendering.translate import plural_forms

_BLOCK = re.compile(
    r"\{%(?P<open>[-+]?)\s*trans\b(?P<header>.*?)[-+]?%\}(?P<body>.*?)"
    r"(?:\{%[-+]?\s*pluralize\b(?P<count>[^%]*?)[-+]?%\}(?P<plural>.*?))?"
    r"\{%[-+]?\s*endtrans\s*(?P<end>[-+]?)%\}(?P<newline>\n?)",
    re.DOTALL,
)
_MARKER = re.compile(r"%\((\w+)\)s|%%")
_EXTRACT = SandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[InternationalizationExtension])


def flatten(source: str, language: str) -> str:
    """`source` with its `{% trans %}` blocks written out in `language` (English: the message ids)."""
    catalog = translations(language)
    return _BLOCK.sub(lambda match: _replace(match, catalog, language), source)


def _replace(match: re.Match[str], catalog: Any, language: str) -> str:
    variables = _header(match.group("header"))
    [(_, _, message)] = list(extract_from_ast(_EXTRACT.parse(match.group(0).rstrip("\n")), GETTEXT_FUNCTIONS,
                                              babel_style=True))
    # The newline after a closing tag is trim_blocks': kept only where the block kept it (`+%}`).
    newline = match.group("newline") if match.group("end") == "+" else ""
    end = match.group("end")
    strings = [part for part in (message if isinstance(message, tuple) else (message,)) if isinstance(part, str)]
    if match.group("plural") is None:
        return _text(catalog.gettext(strings[0]), variables) + newline
    singular, plural = strings[0], strings[1]
    # Jinja's count: the pluralize tag's name, else the header's first variable, else the first one used.
    used = re.search(r"\{\{\s*(\w+)", match.group("body"))
    count = ((match.group("count") or "").strip() or next(iter(variables), "") or (used.group(1) if used else ""))
    forms, test = plural_forms(catalog, singular, plural, language)
    expression = variables.get(count, count)
    parts = [f"{{% {'if' if index == 0 else 'elif'} ({expression}) is {test}({index}) %}}{_text(form, variables)}"
             for index, form in enumerate(forms[:-1])]
    return "".join(parts) + f"{{% else %}}{_text(forms[-1], variables)}{{% endif {end}%}}" + newline


def _text(message: str, variables: dict[str, str]) -> str:
    def variable(found: re.Match[str]) -> str:
        name = found.group(1)
        return "%" if name is None else f"{{{{ {variables.get(name, name)} }}}}"

    return _MARKER.sub(variable, message)


def _header(header: str) -> dict[str, str]:
    """`who=liker, count=others` -> {"who": "liker", "count": "others"}: commas inside brackets or quotes are the
    expression's own."""
    variables: dict[str, str] = {}
    depth, quote, start = 0, "", 0
    items = []
    for position, char in enumerate(header):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(header[start:position])
            start = position + 1
    items.append(header[start:])
    for item in items:
        name, _, expression = item.partition("=")
        if name.strip() and name.strip() not in ("trimmed", "notrimmed"):
            variables[name.strip()] = expression.strip() or name.strip()
    return variables


__all__ = ["flatten"]
