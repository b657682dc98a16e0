"""Every filter of the template environments, guarded by the render budget (rendering.budget).

Each filter's list and dict arguments are checked before it runs (printing, sorting or comparing them walks
every shared part again) and its result after. The filters that can build far more than they are given (the
padding ones, `replace`, `join`, `batch`, `slice`, `sum`, `format`, `wordwrap`, `urlize`, `tojson`) have the
size of what they would build worked out from their arguments first."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import update_wrapper
from typing import Any, cast

from jinja2 import Environment
from jinja2.utils import _PassArg

from notifications.rendering.budget import CONTAINERS, check_chars, check_value, deep_size, limits, over

_MAX_JSON_INDENT = 16
_NUMBERS = re.compile(r"\d+")
_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")

# A check gets the filter's value, its other positional arguments and its keyword arguments; it raises when
# the result would be over the budget, and may return the value to use instead (an iterable made a list).
_Check = Callable[[Any, tuple[Any, ...], dict[str, Any]], Any]


def check_spec_numbers(spec: str) -> None:
    """A format spec's widths and precisions are sizes: refuse any over value_chars."""
    limit = limits().value_chars
    for digits in _NUMBERS.findall(spec):
        if len(digits) > 9 or int(digits) > limit:
            raise over("size")


def check_percent(fmt: str, args: Any) -> None:
    """`fmt % args`: refuse widths and precisions over value_chars (a `*` takes them from the arguments)."""
    limit = limits().value_chars
    starred = False
    for width, precision in _PERCENT_FIELD.findall(fmt):
        for number in (width, precision):
            if number == "*":
                starred = True
            elif number and (len(number) > 9 or int(number) > limit):
                raise over("size")
    if starred and any(isinstance(arg, int) and arg > limit for arg in (args if isinstance(args, tuple) else (args,))):
        raise over("size")
    check_value(args)


def replace_size(text: str, old: Any = "", new: Any = "", count: Any = -1) -> None:
    if not (isinstance(old, str) and isinstance(new, str)) or len(new) <= len(old):
        return
    found = len(text) + 1 if not old else text.count(old)
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    check_chars(len(text) + found * (len(new) - len(old)))


def join_size(items: Any, separator: str) -> list[Any]:
    """The items of a join as a list, after checking what joining them would build."""
    listed = list(items)
    check_chars(len(listed))
    total = len(separator) * max(len(listed) - 1, 0)
    for item in listed:
        total += len(item) if isinstance(item, str) else len(str(check_value(item)))
    check_chars(total)
    return listed


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str, default: Any) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _center(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    width = _arg(args, kwargs, 0, "width", 80)
    if isinstance(width, int):
        check_chars(width)


def _indent(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    width = _arg(args, kwargs, 0, "width", 4)
    step = width if isinstance(width, int) else len(width) if isinstance(width, str) else 0
    text = _text(value)
    check_chars(len(text) + (text.count("\n") + 1) * step)


def _format(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    check_percent(_text(value), kwargs or args)


def _replace(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    replace_size(_text(value), _arg(args, kwargs, 0, "old", ""), _arg(args, kwargs, 1, "new", ""),
                 _arg(args, kwargs, 2, "count", None))


def _join(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    separator = _arg(args, kwargs, 0, "d", "")
    if _arg(args, kwargs, 1, "attribute", None) is not None:
        listed = list(value)
        check_chars(len(listed))
        return listed
    return join_size(value, separator if isinstance(separator, str) else "")


def _count(name: str, index: int) -> _Check:
    def check(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        count = _arg(args, kwargs, index, name, 0)
        if isinstance(count, int):
            check_chars(count)

    return check


def _sum(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    listed = list(value)
    check_chars(len(listed))
    start = _arg(args, kwargs, 1, "start", 0)
    stop = limits().value_chars
    sized = [item for item in (start, *listed) if isinstance(item, (str, list, tuple))]
    if sized:
        check_chars(sum(len(item) if isinstance(item, str) else deep_size(item, stop) for item in sized))
    return listed


def _wordwrap(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    width = _arg(args, kwargs, 0, "width", 79)
    wrap = _arg(args, kwargs, 2, "wrapstring", None)
    text = _text(value)
    lines = len(text) // max(width, 1) if isinstance(width, int) else len(text)
    check_chars(len(text) + (lines + text.count("\n") + 1) * len(wrap if isinstance(wrap, str) else "\n"))


def _urlize(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    extra = sum(len(arg) for arg in (*args, *kwargs.values()) if isinstance(arg, str))
    check_chars(len(_text(value)) * (3 + extra))


def _tojson(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    indent = _arg(args, kwargs, 0, "indent", None)
    if (len(indent) if isinstance(indent, str) else indent if isinstance(indent, int) else 0) > _MAX_JSON_INDENT:
        raise over("size")


_CHECKS: dict[str, _Check] = {
    "center": _center,
    "indent": _indent,
    "format": _format,
    "replace": _replace,
    "join": _join,
    "batch": _count("linecount", 0),
    "slice": _count("slices", 0),
    "sum": _sum,
    "wordwrap": _wordwrap,
    "urlize": _urlize,
    "tojson": _tojson,
}


def _guarded(func: Callable[..., Any], check: _Check | None) -> Callable[..., Any]:
    at = 0 if _PassArg.from_obj(func) is None else 1  # the value comes after a context argument

    def guarded_filter(*args: Any, **kwargs: Any) -> Any:
        for arg in args[at:]:
            if isinstance(arg, CONTAINERS):
                check_value(arg)
        for arg in kwargs.values():
            if isinstance(arg, CONTAINERS):
                check_value(arg)
        if check is not None and len(args) > at:
            replaced = check(args[at], args[at + 1:], kwargs)
            if replaced is not None:
                args = (*args[:at], replaced, *args[at + 1:])
        return check_value(func(*args, **kwargs))

    return update_wrapper(guarded_filter, func)  # keeps jinja_pass_arg


def _guarded_test(func: Callable[..., Any]) -> Callable[..., Any]:
    def guarded_test(*args: Any, **kwargs: Any) -> Any:  # `is in`, `is eq`, ... compare lists deeply
        for arg in (*args, *kwargs.values()):
            if isinstance(arg, CONTAINERS):
                check_value(arg)
        return func(*args, **kwargs)

    return update_wrapper(guarded_test, func)


def guard_filters(env: Environment) -> None:
    """Wrap every filter and test of `env` (the built-in ones and ours)."""
    for name, func in list(env.filters.items()):
        env.filters[name] = _guarded(func, _CHECKS.get(name))
    # jinja2 types its tests as the builtin `function` (from its DEFAULT_TESTS literal), which mypy does not call.
    tests = cast("dict[str, Callable[..., Any]]", env.tests)
    for name, func in list(tests.items()):
        tests[name] = _guarded_test(func)


__all__ = ["check_percent", "check_spec_numbers", "guard_filters", "join_size", "replace_size"]
