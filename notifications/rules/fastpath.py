"""A fast path for the common conditions: CEL's simple comparisons compiled into Python closures, with CEL still
the authority. Why: handing values to the Rust CEL costs about 1 us per value converted (a Context for a
typical event was 8-10 us, the 20-rule benchmark's rules cost +23% per event); the closures read the event's
values where they are. Measured: bench/README.md ("Tenant rules").

What it takes: literals (numbers, plain strings, true, false, null, `timestamp("...")`, lists of literals),
`payload.key`, `payload["key"]` (also of metadata and recipient, nested maps too), event_type, tenant_id,
`has(...)`, `!`, `&&`, `||`, comparisons, `in` a list, and the string methods startsWith, endsWith, contains.
Any other text compiles to None and the condition runs on CEL alone.

What it answers: only what it can answer exactly as CEL would. Whenever CEL would do something else than the
plain reading (a missing key, which CEL reports as an error; a comparison of two types; a non-boolean operand),
the closure raises Fallback and the rule is evaluated by CEL for that event, which gives CEL's own answer or
error. tests/rules/test_fastpath.py runs both on a table of conditions and values and requires the same result."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from notifications.rules.values import cel_value

Values = Mapping[str, Any]  # variable name -> the event's value (mappings as they are, rules.compiled.FastValues)
Node = Callable[[Values], Any]


class Fallback(Exception):
    """CEL must answer this one (a missing key, mixed types, a value that is not a boolean)."""


class _Unsupported(Exception):
    pass


_TOKEN = re.compile(r"""\s*(?:(?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![\w.])|(?P<str>"[^"\\\n]*"|'[^'\\\n]*')
                    |(?P<op>==|!=|<=|>=|&&|\|\||[<>!().\[\],-])|(?P<name>[A-Za-z_]\w*))""", re.VERBOSE)
_ROOTS = ("payload", "metadata", "recipient", "event_type", "tenant_id")
_METHODS = {"startsWith": str.startswith, "endsWith": str.endswith, "contains": str.__contains__}
_SCALARS = (float, str, bool, type(None))
MAX_NEGATIONS = 8


def _tokens(text: str) -> list[tuple[str, str]]:
    out, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _Unsupported
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens, self.at, self.depth = _tokens(text), 0, 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end" or (value is not None and token[1] != value):
            raise _Unsupported
        self.at += 1
        return token

    def parse(self) -> Node:
        node = self.disjunction()
        if self.peek()[0] != "end":
            raise _Unsupported
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.peek() == ("op", "||"):
            self.take()
            node = _or(node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.comparison()
        while self.peek() == ("op", "&&"):
            self.take()
            node = _and(node, self.comparison())
        return node

    def comparison(self) -> Node:
        node = self.unary()
        kind, value = self.peek()
        if (kind, value) in {("op", op) for op in ("==", "!=", "<", "<=", ">", ">=")}:
            self.take()
            return _compare(value, node, self.unary())
        if (kind, value) == ("name", "in"):
            self.take()
            return _member(node, self.unary())
        return node

    def unary(self) -> Node:
        kind, value = self.peek()
        if (kind, value) == ("op", "!"):
            self.take()
            self.depth += 1
            if self.depth > MAX_NEGATIONS:  # each is a closure call deep: CEL takes such a text
                raise _Unsupported
            return _not(self.unary())
        following = self.tokens[self.at + 1:self.at + 2]
        if (kind, value) == ("op", "-") and following and following[0][0] == "num":
            self.take()
            number = -float(self.take()[1])
            return lambda values: number
        return self.postfix()

    def postfix(self) -> Node:
        node, path = self.primary()
        while True:
            kind, value = self.peek()
            if value == "." and kind == "op":
                self.take()
                name = self.take()[1]
                if self.peek() == ("op", "("):
                    if name not in _METHODS:
                        raise _Unsupported
                    self.take()
                    argument = self.disjunction()
                    self.take(")")
                    node, path = _method(_METHODS[name], node, argument), None
                else:
                    node, path = _select(node, name), ((*path, name) if path is not None else None)
            elif value == "[" and kind == "op":
                self.take()
                key_kind, key = self.take()
                if key_kind != "str":
                    raise _Unsupported  # an index or a computed key: CEL's
                self.take("]")
                node, path = _select(node, key[1:-1]), ((*path, key[1:-1]) if path is not None else None)
            else:
                return node

    def primary(self) -> tuple[Node, tuple[str, ...] | None]:
        kind, value = self.take()
        if kind == "num":
            number = float(value)
            return (lambda values: number), None
        if kind == "str":
            text = value[1:-1]
            return (lambda values: text), None
        if kind == "op" and value == "(":
            node = self.disjunction()
            self.take(")")
            return node, None
        if kind == "op" and value == "[":
            items = []
            while self.peek() != ("op", "]"):
                items.append(self.disjunction())
                if self.peek() == ("op", ","):
                    self.take()
            self.take("]")
            return (lambda values: [item(values) for item in items]), None
        if kind != "name":
            raise _Unsupported
        constants = {"true": True, "false": False, "null": None}
        if value in constants:
            constant = constants[value]
            return (lambda values: constant), None
        if value == "has":
            return self.presence(), None
        if value == "timestamp":
            return self.timestamp(), None
        if value not in _ROOTS:
            raise _Unsupported
        return (lambda values: values[value]), (value,)

    def presence(self) -> Node:
        self.take("(")
        _, path = self.primary()
        while self.peek() == ("op", ".") and path is not None:
            self.take()
            path = (*path, self.take()[1])
        self.take(")")
        if path is None or len(path) < 2:
            raise _Unsupported
        return _has(path)

    def timestamp(self) -> Node:
        self.take("(")
        kind, value = self.take()
        self.take(")")
        if kind != "str" or not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)",
                                             value[1:-1]):
            raise _Unsupported
        moment = datetime.fromisoformat(value[1:-1].replace("Z", "+00:00"))
        return lambda values: moment


def _select(node: Node, key: str) -> Node:
    def select(values: Values) -> Any:
        mapping = node(values)
        if not isinstance(mapping, Mapping) or key not in mapping:
            raise Fallback  # CEL: no such key, or not a map
        return cel_value(mapping[key])
    return select


def _has(path: tuple[str, ...]) -> Node:
    root, *middle, last = path

    def has(values: Values) -> bool:
        mapping = values[root]
        for key in middle:
            if not isinstance(mapping, Mapping) or key not in mapping:
                raise Fallback
            mapping = mapping[key]
        if not isinstance(mapping, Mapping):
            raise Fallback
        return last in mapping
    return has


def _bool(node: Node, values: Values) -> bool:
    result = node(values)
    if type(result) is not bool:
        raise Fallback
    return result


def _and(left: Node, right: Node) -> Node:
    return lambda values: _bool(left, values) and _bool(right, values)


def _or(left: Node, right: Node) -> Node:
    return lambda values: _bool(left, values) or _bool(right, values)


def _not(node: Node) -> Node:
    return lambda values: not _bool(node, values)


def _same_scalars(a: Any, b: Any) -> bool:
    return type(a) is type(b) and isinstance(a, _SCALARS)


def _compare(op: str, left: Node, right: Node) -> Node:
    def equal(values: Values) -> bool:
        a, b = left(values), right(values)
        if not _same_scalars(a, b):
            raise Fallback
        return (a == b) is (op == "==")

    def order(values: Values) -> bool:
        a, b = left(values), right(values)
        if type(a) is not type(b) or type(a) not in (float, str, datetime):
            raise Fallback
        if type(a) is datetime and (a.tzinfo is None or b.tzinfo is None):
            raise Fallback
        return bool(a < b if op == "<" else a <= b if op == "<=" else a > b if op == ">" else a >= b)

    return equal if op in ("==", "!=") else order


def _member(item: Node, collection: Node) -> Node:
    def member(values: Values) -> bool:
        value, items = item(values), collection(values)
        if not isinstance(items, list) or not all(_same_scalars(value, other) for other in items):
            raise Fallback
        return value in items
    return member


def _method(method: Callable[[str, str], bool], receiver: Node, argument: Node) -> Node:
    def call(values: Values) -> bool:
        text, other = receiver(values), argument(values)
        if type(text) is not str or type(other) is not str:
            raise Fallback
        return method(text, other)
    return call


def compile_fast(text: str) -> Callable[[Values], bool] | None:
    """The closure for this (bounded: rules.conditions checked it) condition, or None when only CEL takes it."""
    try:
        node = _Parser(text).parse()
    except (_Unsupported, ValueError, IndexError, RecursionError):
        return None
    return lambda values: _bool(node, values)
