"""A rule's condition: a CEL expression (the Common Expression Language, evaluated by its Rust implementation,
`common-expression-language`), bounded before it reaches the parser and compiled once per rule set version.

Why CEL and how it is kept cheap: docs/architecture.md ("Tenant rules"). The cost of a CEL evaluation is almost
all in converting Python values to CEL values, so a condition is handed only what it reads: the variables it
names, and of `payload`, `metadata` and `recipient` only the keys it reads as `payload.amount` or
`payload["amount"]` (the whole mapping when it reads it any other way, such as `size(payload)`). A key that is
absent stays absent, so pruning never changes an answer.

What is refused, and why (each a CEL program that could cost more than its text suggests, or read what it
must not):
- text longer than MAX_TEXT, brackets nested deeper than MAX_DEPTH (counted here, outside string literals, so a
  100,000-deep nesting never reaches a parser's stack), string literals longer than MAX_STRING_LITERAL,
  number literals longer than MAX_NUMBER_LITERAL, more than MAX_COMPREHENSIONS list macros;
- regular expressions (`matches`): use startsWith, endsWith, contains;
- variables other than VARIABLES. CEL has no attribute access to host objects: `payload.__class__` is a map key
  look-up, and the values it sees are JSON values converted, never Python objects.

Values: a condition reads the payload as its handler typed it (a decimal amount is a number, a date-time a CEL
timestamp), not as stored (where a decimal is text). Numbers: JSON has one kind of number, and a producer may
send an amount as 1500 or 1500.0, but CEL does not compare an int with a double (its Rust implementation
raises). So every number a condition reads is a double,
and so is every integer literal it writes (`payload.amount > 1000` is compiled as `> 1000.0`), except an index
(`payload.items[0]`). What CEL itself counts (`size(...)`) stays an int: compare it as `double(size(x)) > 2`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import cel

from notifications.rules.errors import ConditionError
from notifications.rules.fastpath import compile_fast

MAX_TEXT = 1000
MAX_DEPTH = 16
MAX_STRING_LITERAL = 256
MAX_NUMBER_LITERAL = 24
MAX_COMPREHENSIONS = 2
VARIABLES = ("event_type", "payload", "metadata", "recipient", "tenant_id")
#: Mappings a condition may read by key: handed over pruned to the keys it names.
MAPPINGS = ("payload", "metadata", "recipient")
REFUSED_FUNCTIONS = {"matches": "regular expressions are not allowed: use startsWith, endsWith or contains"}

_OPEN, _CLOSE = "([{", ")]}"
_MACRO = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(")
_NUMBER = re.compile(r"(?<![\w.])\d[\w.]*")
_KEY_READ = {name: re.compile(rf"\b{name}\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*(?:\"([^\"\\]*)\"|'([^'\\]*)')\s*\])")
             for name in MAPPINGS}
_NAMED = {name: re.compile(rf"\b{name}\b") for name in MAPPINGS}


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled condition and what it reads: `keys[name]` is the keys of mapping `name` it reads, None for
    all of it (a mapping it does not read has no entry)."""

    text: str
    program: Any
    variables: frozenset[str]
    keys: Mapping[str, frozenset[str] | None]
    fast: Callable[[Mapping[str, Any]], bool] | None = None  # rules.fastpath: CEL stays the authority



def _strings_blanked(text: str) -> str:
    """The text with each string literal's content blanked (its quotes kept), so brackets, names and numbers
    inside strings are not counted. Raises ConditionError on an unterminated or too long literal."""
    out, i, n = [], 0, len(text)
    while i < n:
        char = text[i]
        if char not in "\"'":
            out.append(char)
            i += 1
            continue
        quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else char
        start, i = i, i + len(quote)
        raw = start > 0 and text[start - 1] in "rR"
        while i < n and not text.startswith(quote, i):
            if text[i] == "\\" and not raw:
                i += 1
            elif len(quote) == 1 and text[i] == "\n":
                break
            i += 1
        if i >= n or not text.startswith(quote, i):
            raise ConditionError("unterminated string literal", start)
        if i - start - len(quote) > MAX_STRING_LITERAL:
            raise ConditionError(f"string literal longer than {MAX_STRING_LITERAL} characters", start)
        i += len(quote)
        out.append(quote + " " * (i - start - 2 * len(quote)) + quote)
    return "".join(out)


def check_bounds(text: str) -> str:
    """Raises ConditionError (with the position) for what must not reach the parser; returns the text with its
    string literals blanked, for the other checks."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("a condition is a non-empty CEL expression", 0)
    if len(text) > MAX_TEXT:
        raise ConditionError(f"longer than {MAX_TEXT} characters", MAX_TEXT)
    depth = 0
    for position, char in enumerate(text):  # before blanking: a deep nesting is refused without more work
        if char in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                raise ConditionError(f"nested deeper than {MAX_DEPTH} brackets", position)
        elif char in _CLOSE:
            depth = max(depth - 1, 0)
    blanked = _strings_blanked(text)
    for match in _NUMBER.finditer(blanked):
        if len(match.group()) > MAX_NUMBER_LITERAL:
            raise ConditionError(f"number literal longer than {MAX_NUMBER_LITERAL} characters", match.start())
    macros = list(_MACRO.finditer(blanked))
    if len(macros) > MAX_COMPREHENSIONS:
        raise ConditionError(f"more than {MAX_COMPREHENSIONS} list macros (all, exists, map, filter)",
                             macros[MAX_COMPREHENSIONS].start())
    return blanked


_POSITION = re.compile(r"<input>:(\d+):(\d+):")


def _parse_error(err: Exception, text: str) -> ConditionError:
    """CEL's parse error, reduced to its first message and the position it names (1-based line:column)."""
    message = str(err)
    found = _POSITION.search(message)
    if found is None:
        return ConditionError(message.split("\n", 1)[0][:200], 0)
    line, column = int(found.group(1)), int(found.group(2))
    offset = sum(len(part) + 1 for part in text.split("\n")[:line - 1]) + column - 1
    detail = message[found.end():].split("\n", 1)[0].strip()
    return ConditionError(detail[:200] or "syntax error", min(offset, len(text)))


def compile_condition(text: str) -> Condition:
    """The condition compiled, or ConditionError naming what is wrong and where (a 0-based character offset)."""
    blanked = check_bounds(text)
    try:
        cel.compile(text)  # the tenant's own text first: its errors' positions are theirs
        program = cel.compile(as_doubles(text, blanked))
    except (ValueError, RuntimeError) as err:
        raise _parse_error(err, text) from err
    refs = program.references()
    for function in refs["functions"]:
        if function in REFUSED_FUNCTIONS:
            raise ConditionError(REFUSED_FUNCTIONS[function], max(blanked.find(function), 0))
    variables = frozenset(refs["variables"])
    unknown = sorted(variables.difference(VARIABLES))
    if unknown:
        found = re.search(rf"\b{re.escape(unknown[0])}\b", blanked)
        raise ConditionError(f"unknown variable {unknown[0]!r}: a condition reads {', '.join(VARIABLES)}",
                             found.start() if found else 0)
    return Condition(text, program, variables, {name: keys_read(blanked, text, name)
                                                for name in MAPPINGS if name in variables}, compile_fast(text))


_INTEGER = re.compile(r"(?<![\w.])\d+(?![\w.])")


def as_doubles(text: str, blanked: str) -> str:
    """The text with its integer literals written as doubles, but for indexes (`x[0]`)."""
    out, last = [], 0
    for match in _INTEGER.finditer(blanked):
        before = blanked[:match.start()].rstrip()
        if before.endswith("[") and re.search(r"[\w)\]]\s*\[$", before):
            continue  # an index: lists are indexed by int
        out.append(text[last:match.end()] + ".0")
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def keys_read(blanked: str, text: str, name: str) -> frozenset[str] | None:
    """The keys of mapping `name` the condition reads, or None when it reads the mapping some other way too."""
    reads = list(_KEY_READ[name].finditer(blanked))
    if len(reads) != len(_NAMED[name].findall(blanked)):
        return None
    keys = set()
    for match in reads:
        if match.group(1):
            keys.add(match.group(1))
        else:  # a quoted key: its text from the original (the blanked copy has spaces there)
            inner = _KEY_READ[name].match(text, match.start())
            if inner is None:
                return None
            keys.add(inner.group(2) if inner.group(2) is not None else inner.group(3))
    return frozenset(keys)
