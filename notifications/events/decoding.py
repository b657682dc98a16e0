"""An event's bytes to a JSON value, for any input: every failure is an error text, nothing raises.

Refused: text that is not UTF-8 or not JSON, events larger than MAX_EVENT_BYTES, numbers that are not finite
(NaN, Infinity, 1e999) or longer than Python reads (4,300 digits), and objects that repeat a key at any depth
(JSON parsers keep the last value silently: `"amount": 1, "amount": 100000`).

The common case stays one orjson pass: a repeated key is looked for exactly only when the count of keys in the
parsed value differs from the count of key endings (`"` then `:`) in the text without its whitespace. Every key
ends so, and strings holding `"` and `:` (with or without spaces between) only add to the text's count, so equal
counts prove there is no repeated key."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

MAX_DEPTH = 32
MAX_EVENT_BYTES = 1024 * 1024
_SHOWN_KEY = 64  # a repeated key is named in the error, cut to this length

_WHITESPACE = b" \t\r\n"  # JSON's whitespace, dropped from the text's shape (see _shape)
# In JSON text, NUL and surrogates can only come as \u escapes (raw control characters are refused by the
# parser, raw surrogates by the UTF-8 decoder). Text without such an escape and with few brackets needs no walk.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_SUSPECT_ESCAPE_BYTES = re.compile(_SUSPECT_ESCAPE.pattern.encode())
# orjson reads an integer beyond 64 bits as a float, silently losing digits (a 30-digit amount became 1.2e29):
# text with a run of 19 or more digits (-2**63 has 19) is read the exact way instead. Such runs are rare (long
# numeric ids in strings, long fractions), and then cost only the slower parse.
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_RUN = b"0" * 19


def has_long_digit_run(raw: bytes) -> bool:
    """Whether the text holds 19 digits in a row. Every digit mapped to 0, then one substring search: 0.4 us for
    the bench mix's 324-byte events where the regex `[0-9]{19,}` took 3.0 us (it restarts at every digit)."""
    return _LONG_RUN in raw.translate(_DIGITS_AS_ZERO)


_SHAPE = bytes.maketrans(b"0123456789[", b"0" * 10 + b"{")


def _shape(raw: bytes) -> bytes:
    """The text with every digit mapped to 0, `[` to `{` and its whitespace dropped, made in one pass for three
    checks: a run of 19 zeros may be a long integer (whitespace only separates digits inside strings: such a run
    takes the exact parse for nothing, with the same result), every key end is `":` (see _decode), and
    the count of `{` is that of the brackets (plainly_storable's first test).

    Fast path, "one shape for three checks": the count of `":` in the raw text and the regex search for a spaced
    key end (0.33 + 0.66 us an event on the bench mix) are replaced by the whitespace dropped in the digit
    pass that was made anyway and a count (decode: 4.0 -> 3.5 us an event, best of 40 interleaved runs); then
    `[` read as `{` (one count of brackets, not two) and the key check inlined in _decode: 3.27 -> 2.98 us."""
    return raw.translate(_SHAPE, _WHITESPACE)


class _Refused(ValueError):
    """A JSON text the strict parse refuses, with a reason that never quotes a value."""


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("number too large")
    return value


def _bounded_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than int() takes (sys.get_int_max_str_digits)
        raise _Refused(f"number too large ({len(text)} digits)") from None


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"repeated key {key[:_SHOWN_KEY]!r}")
            seen.add(key)
    return value


def strict_loads(text: str | bytes) -> Any:
    """The exact, slower parse: finite numbers only and no repeated keys. Raises ValueError (JSONDecodeError
    or a refusal) and RecursionError."""
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int,
                      object_pairs_hook=_no_repeated_keys)


def count_keys(value: Any) -> int:
    """The keys of every object in a parsed JSON value (an object or an array). Iterative: depth costs no
    stack."""
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            count += len(item)
            stack += [child for child in item.values() if type(child) is dict or type(child) is list]
        else:
            stack += [child for child in item if type(child) is dict or type(child) is list]
    return count


_CONTAINERS = frozenset((dict, list))


def _count_shallow(value: Any) -> int:
    """count_keys for a value known to hold few containers (plainly_storable): recursion, twice as fast. One
    type() and a set look-up a child (0.59 -> 0.51 us an event on the bench mix, best of 40 interleaved runs)."""
    if type(value) is dict:
        count = len(value)
        for child in value.values():
            if type(child) in _CONTAINERS:
                count += _count_shallow(child)
        return count
    count = 0
    for child in value:
        if type(child) in _CONTAINERS:
            count += _count_shallow(child)
    return count


def _repeat_problem(raw: bytes) -> str | None:
    """Why the text repeats a key, or None: the exact parse, for a text whose count of key ends differs from the
    count of keys orjson read (see the module's note and _decode)."""
    try:
        strict_loads(raw)
    except _Refused as err:
        return str(err)
    except (ValueError, RecursionError):
        return None  # orjson read it: whatever else the strict parse minds is not a repeated key
    return None


def plainly_storable(text: str | bytes) -> bool:
    if isinstance(text, bytes):
        return text.count(b"{") + text.count(b"[") <= MAX_DEPTH and not _SUSPECT_ESCAPE_BYTES.search(text)
    return text.count("{") + text.count("[") <= MAX_DEPTH and not _SUSPECT_ESCAPE.search(text)


def decode(raw: Any) -> tuple[Any, str | None, bool]:
    """raw bytes/str -> (JSON value, an error text, whether the text shows it needs no structure check).
    Anything else is returned as it is. Never raises."""
    try:
        return _decode(raw)
    except (RecursionError, MemoryError) as err:
        return None, "nested too deeply" if isinstance(err, RecursionError) else "too large to read", False
    except Exception as err:  # noqa: BLE001 - any input is an answer, never an exception
        return None, f"unreadable ({type(err).__name__})", False


def _decode(raw: Any) -> tuple[Any, str | None, bool]:
    shape = _shape(raw) if isinstance(raw, bytes) and len(raw) <= MAX_EVENT_BYTES else None
    if shape is not None and _LONG_RUN not in shape:
        # The common case, four times faster: orjson checks the UTF-8 and parses in one pass. Whatever it refuses
        # (NaN, numbers beyond a double) or may read inexactly (long integers) goes the strict way below, for the
        # same result or a clear refusal.
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            # plainly_storable(raw), its bracket count read from the shape.
            plain = shape.count(b"{") <= MAX_DEPTH and not _SUSPECT_ESCAPE_BYTES.search(raw)
            # Equal counts of keys and key ends (`":` in the shape) prove no key repeats; else the exact parse.
            if type(value) is dict or type(value) is list:
                keys = _count_shallow(value) if plain else count_keys(value)
                if shape.count(b'":') != keys:
                    repeated = _repeat_problem(raw)
                    if repeated:
                        return None, repeated, False
            return value, None, plain
    if isinstance(raw, (bytes, bytearray, memoryview)):
        if len(raw) > MAX_EVENT_BYTES:
            return None, f"larger than {MAX_EVENT_BYTES} bytes", False
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as err:
            return None, f"not UTF-8: {err.reason} at byte {err.start}", False
    if isinstance(raw, str):
        if len(raw) > MAX_EVENT_BYTES:
            return None, f"larger than {MAX_EVENT_BYTES} bytes", False
        try:
            return strict_loads(raw), None, plainly_storable(raw)
        except json.JSONDecodeError as err:
            return None, f"{err.msg} at line {err.lineno} column {err.colno}", False
        except _Refused as err:
            return None, str(err), False
        except RecursionError:
            return None, "nested too deeply", False
    return raw, None, False
