"""The sandboxed Jinja environment tenants' templates run in, bounded by the render budget (rendering.budget).

What is counted where:
- steps: every item a `for` loop takes (its iterable is wrapped when the template is parsed, so a loop filter
  `if` and a recursive `loop(...)` count too) and every call (macros, methods, `caller()`, `loop(...)`);
- size, before a value is built: repetition (`*`), `+`, `%` and str.format widths, the padding filters and
  string methods, `replace`, `join`, `batch`, `slice`, `sum`, `lipsum`, integer growth; after: the result of
  every filter, call, `~`, namespace assignment and list, tuple or dict literal, and a list a method changed
  (lists and dicts counted deeply, a shared part each time it appears), so no value a template holds is
  larger, and printing, comparing or hashing one is bounded too;
- output: what a loop body prints (_BudgetCodeGenerator); a field's whole text is checked by the engine;
- depth: calls nested in calls; time: checked at every step."""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Iterator
from functools import update_wrapper
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment, SandboxedEscapeFormatter, SandboxedFormatter
from jinja2.utils import Namespace, generate_lorem_ipsum, pass_context
from markupsafe import Markup

from notifications.rendering.budget import BudgetContext, check_chars, check_value, deep_size, limits, over
from notifications.rendering.budget_filters import (
    check_percent,
    check_spec_numbers,
    guard_filters,
    join_size,
    replace_size,
)

_STRING_GROWERS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "replace", "translate", "join"})
_MUTATORS = frozenset({"append", "extend", "insert", "update", "setdefault"})


def check_string_method(name: str, text: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """The size of what a str method that can grow its string would build, worked out before it is built."""
    if name in ("center", "ljust", "rjust", "zfill"):
        width = args[0] if args else kwargs.get("width", 0)
        if isinstance(width, int):
            check_chars(width)
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(size, int):
            check_chars(len(text) + text.count("\t") * size)
    elif name == "replace":
        replace_size(text, *args, **kwargs)
    elif name == "translate":
        table = args[0] if args else None
        if isinstance(table, dict):
            longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
            check_chars(len(text) * max(longest, 1))
    elif name == "join":
        join_size(args[0] if args else (), text)


def _ticking(context: BudgetContext, iterable: Any) -> Iterator[Any]:
    tick = context.tick
    for item in iterable:
        tick()
        yield item


@pass_context
def _budget_iter(context: BudgetContext, iterable: Any) -> Iterator[Any]:
    """What a `for` loop iterates (put there by _BoundedSandbox._parse): its items, each counted as a step."""
    return _ticking(context, iterable)


class _BudgetNamespace(Namespace):
    """namespace(): `{% set ns.x = ... %}` in a loop accumulates; each value assigned is checked."""

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, check_value(value))


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    check_chars(n * max * 12 if isinstance(n, int) and isinstance(max, int) else 0)
    return generate_lorem_ipsum(n, html, min, max)


class _BudgetFormatterMixin:
    def format_field(self, value: Any, format_spec: str) -> Any:
        check_spec_numbers(format_spec)
        return super().format_field(check_value(value), format_spec)  # type: ignore[misc]


class _Formatter(_BudgetFormatterMixin, SandboxedFormatter):
    pass


class _EscapeFormatter(_BudgetFormatterMixin, SandboxedEscapeFormatter):
    pass


class _BudgetCodeGenerator(CodeGenerator):
    """What a loop body prints is counted as output (context.emit); prints elsewhere run at most once per
    render and compile as before. `~` and list, tuple and dict literals are checked."""

    _budget_loops = 0
    _budget_body_next = False

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        self._budget_body_next = True
        super().visit_For(node, frame)

    def blockvisit(self, nodes: Iterable[nodes.Node], frame: Frame) -> None:
        if self._budget_body_next and frame.loop_frame:
            self._budget_body_next = False
            self._budget_loops += 1
            try:
                super().blockvisit(nodes, frame)
            finally:
                self._budget_loops -= 1
        else:
            super().blockvisit(nodes, frame)

    @staticmethod
    def _conversion(frame: Frame) -> str:
        if frame.eval_ctx.volatile:
            return "(escape if context.eval_ctx.autoescape else str)"
        return "escape" if frame.eval_ctx.autoescape else "str"

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        text = super()._output_const_repr(group)
        return f"context.emit({text})" if self._budget_loops else text

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if self._budget_loops and finalize.src is None:
            self.write(f"environment.budget_emit(context, {self._conversion(frame)}, ")
        else:
            super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if self._budget_loops and finalize.src is None:
            self.write(")")
        else:
            super()._output_child_post(node, frame, finalize)

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        else:
            join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
        self.write(f"environment.budget_join({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    # List, tuple and dict literals are measured when made: `{% set b = [a, a] %}` line after line doubles a
    # shared list that printing, comparing or hashing would walk in full.
    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx != "load":  # an assignment target
            super().visit_Tuple(node, frame)
            return
        self.write("environment.budget_value(")
        super().visit_Tuple(node, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self.write("environment.budget_value(")
        super().visit_List(node, frame)
        self.write(")")

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self.write("environment.budget_value(")
        super().visit_Dict(node, frame)
        self.write(")")


class BoundedSandbox(SandboxedEnvironment):
    """Tenants write templates: every render keeps within the render budget (rendering.budget)."""

    code_generator_class = _BudgetCodeGenerator
    context_class = BudgetContext
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in list(tree.find_all(nodes.For)):
            loop.iter = nodes.Filter(loop.iter, "budget_iter", [], [], None, None, lineno=loop.iter.lineno)
        return tree

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_product(left, right)
        elif operator == "+":
            if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
                stop = limits().value_chars
                check_chars(_size(left, stop) + _size(right, stop))
        elif operator == "%":
            if isinstance(left, str):
                check_percent(left, right)
        elif (operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0
              and left.bit_length() * right > limits().int_bits):
            raise over("size")
        return check_value(self.binop_table[operator](left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        __context.tick()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            if __obj.__name__ in _STRING_GROWERS:
                check_string_method(__obj.__name__, owner, args, kwargs)
        elif isinstance(__obj, LoopContext) and args:
            args = (_ticking(__context, args[0]), *args[1:])
        __context.enter()
        try:
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            __context.leave()
        if isinstance(owner, (list, dict)) and getattr(__obj, "__name__", "") in _MUTATORS:
            check_value(owner)
        return check_value(result)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """str.format and str.format_map with widths and values checked (Jinja's own, with our formatter)."""
        if not isinstance(value, (types.MethodType, types.BuiltinMethodType)) or value.__name__ not in (
                "format", "format_map") or not isinstance(value.__self__, str):
            return None
        text: str = value.__self__
        formatter = _EscapeFormatter(self, escape=text.escape) if isinstance(text, Markup) else _Formatter(self)
        is_map = value.__name__ == "format_map"

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                kwargs, args = args[0], ()
            return check_value(type(text)(formatter.vformat(text, args, kwargs)))

        return update_wrapper(wrapper, value)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(argument, tuple):
            check_value(argument)
        return super().getitem(obj, argument)

    # Called from the generated code (_BudgetCodeGenerator).
    @staticmethod
    def budget_emit(context: BudgetContext, conversion: Callable[[Any], str], value: Any) -> str:
        return context.emit(conversion(value))

    @staticmethod
    def budget_join(join: Callable[[Iterable[Any]], str], parts: tuple[Any, ...]) -> str:
        total = 0
        for part in parts:
            if part.__class__ is str:
                total += len(part)
            else:
                check_value(part)
        check_chars(total)
        return check_value(join(parts))

    budget_value = staticmethod(check_value)


def _size(value: Any, stop: int) -> int:
    return len(value) if isinstance(value, str) else deep_size(value, stop)


def _check_product(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > limits().int_bits:
            raise over("size")
        return
    sized, count = (left, right) if isinstance(right, int) else (right, left)
    if isinstance(sized, (str, list, tuple)) and isinstance(count, int) and count > 1:
        stop = limits().value_chars
        check_chars(_size(sized, stop) * count)


def make_env(autoescape: bool, filters: dict[str, Callable[..., Any]],
             extensions: tuple[Any, ...] = ()) -> BoundedSandbox:
    env = BoundedSandbox(autoescape=autoescape, trim_blocks=True, lstrip_blocks=True, extensions=list(extensions))
    env.filters.update(filters)
    guard_filters(env)
    env.filters["budget_iter"] = _budget_iter
    env.globals.update(namespace=_BudgetNamespace, lipsum=_lipsum)
    return env


__all__ = ["BoundedSandbox", "make_env"]
