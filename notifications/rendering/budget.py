"""The render budget of a template: how much work and output one render may take.

Tenants write templates, and one template renders inside intake's transaction (in-app) or a worker's batch
(e-mail, SMS, push), so a render must end soon whatever the template does. The sandbox (rendering.sandbox)
counts every loop iteration and every call as a step, refuses values before they are built when they would be
larger than `value_chars`, counts the output of loops and checks a field's whole output, and bounds how deeply
calls nest (macros, recursive loops). A wall-clock deadline, checked at every step, is the backstop for work
no count foresees. Over any limit a render raises RenderBudgetExceeded naming the limit.

The limits are NOTIFICATIONS["TEMPLATE_BUDGET"], a dict of any of the DEFAULTS' keys."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, fields
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from jinja2.runtime import Context
from jinja2.utils import Namespace

from notifications.conf import get_setting
from notifications.errors import NotificationConfigurationError, RenderBudgetExceeded

_perf_counter = time.perf_counter


@dataclass(frozen=True, slots=True)
class Limits:
    steps: int = 20_000  # loop iterations and calls of one render
    output_chars: int = 200_000  # the rendered text of one field (or of the fields rendered together)
    value_chars: int = 100_000  # any value a template builds: characters of text, elements and characters of lists
    seconds: float = 0.1  # wall clock from the first step, checked at every step
    depth: int = 32  # calls nested in calls (macros calling macros, recursive loops)
    int_bits: int = 65_536  # integers a template multiplies or raises to a power


DEFAULTS = Limits()
_current: Limits | None = None


def limits() -> Limits:
    """The budget in force: DEFAULTS updated by NOTIFICATIONS["TEMPLATE_BUDGET"], read once (and again when
    the setting changes in tests)."""
    global _current
    if _current is None:
        _current = _from_setting(get_setting("TEMPLATE_BUDGET", None) or {})
    return _current


def _from_setting(raw: Any) -> Limits:
    names = {field.name: field.type for field in fields(Limits)}
    if not isinstance(raw, dict) or set(raw) - set(names):
        raise NotificationConfigurationError(
            f"NOTIFICATIONS['TEMPLATE_BUDGET'] must be a dict of some of: {', '.join(names)}")
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise NotificationConfigurationError(
                f"NOTIFICATIONS['TEMPLATE_BUDGET'][{name!r}] must be a positive number")
    values: dict[str, Any] = {name: (float(value) if name == "seconds" else int(value)) for name, value in raw.items()}
    return Limits(**values)


@receiver(setting_changed)
def _setting_changed(setting: str, **kwargs: Any) -> None:
    global _current
    if setting == "NOTIFICATIONS":
        _current = None


def over(limit: str) -> RenderBudgetExceeded:
    """The error for going over `limit`; the message says which limit and its value, nothing of the data."""
    budget = limits()
    what = {
        "steps": f"more than {budget.steps} loop iterations and calls",
        "size": f"a value over {budget.value_chars} characters or elements",
        "output": f"output over {budget.output_chars} characters",
        "time": f"over {budget.seconds:g} s",
        "depth": f"calls nested more than {budget.depth} deep",
    }[limit]
    return RenderBudgetExceeded(f"render budget exceeded ({limit}): {what}", limit=limit)


def check_chars(count: int) -> None:
    """Refuse a value of `count` characters (or elements) before building it."""
    if count > limits().value_chars:
        raise over("size")


# The concrete classes (an isinstance check against them is cheaper than against the views' ABCs).
_DICT_VIEWS: tuple[type[Collection[Any]], ...] = (type({}.keys()), type({}.values()), type({}.items()))
_SEQUENCES: tuple[type[Collection[Any]], ...] = (list, tuple, *_DICT_VIEWS)
CONTAINERS: tuple[type, ...] = (*_SEQUENCES, dict, Namespace)  # values measured by deep_size


def deep_size(value: Any, stop: int) -> int:
    """Elements and characters in `value`, counting a shared or nested part each time it appears (as printing
    or comparing it would visit it); stops counting past `stop`, so it costs at most about `stop` steps."""
    total = 0
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, _SEQUENCES):
            total += len(item) + 1
            if total <= stop:
                pending.extend(item)
        elif isinstance(item, dict):
            total += 2 * len(item) + 1
            if total <= stop:
                pending.extend(item.keys())
                pending.extend(item.values())
        elif isinstance(item, Namespace):  # printed as its attributes
            pending.append(item._Namespace__attrs)
        else:
            total += 1
        if total > stop:
            break
    return total


def check_value(value: Any) -> Any:
    """`value` itself when it is within value_chars (text by length; lists, dicts, their views and namespaces
    by deep_size)."""
    if isinstance(value, str):
        if len(value) > limits().value_chars:
            raise over("size")
    elif isinstance(value, CONTAINERS):
        stop = limits().value_chars
        if deep_size(value, stop) > stop:
            raise over("size")
    return value


class BudgetContext(Context):
    """The render context, which also keeps the render's spending. The counters live on the instance only once
    a render steps (a loop iteration or a call), so a template without loops or calls costs nothing more."""

    budget_steps = 0
    budget_deadline = 0.0
    budget_output = 0
    budget_depth = 0

    def tick(self) -> None:
        steps = self.budget_steps + 1
        self.budget_steps = steps
        if steps == 1:
            self.budget_deadline = _perf_counter() + limits().seconds
        elif steps > limits().steps:
            raise over("steps")
        elif _perf_counter() > self.budget_deadline:
            raise over("time")

    def emit(self, text: str) -> str:
        """Count `text` as output of a loop body (where the same output can repeat) and return it."""
        spent = self.budget_output + len(text)
        if spent > limits().output_chars:
            raise over("output")
        self.budget_output = spent
        return text

    def enter(self) -> None:
        depth = self.budget_depth + 1
        if depth > limits().depth:
            raise over("depth")
        self.budget_depth = depth

    def leave(self) -> None:
        self.budget_depth -= 1

    def carry_from(self, other: Context) -> None:
        """Continue the spending of `other` (a failed render of the same fields, rendered again one by one)."""
        for name in ("budget_steps", "budget_deadline", "budget_output"):
            if name in other.__dict__:
                setattr(self, name, other.__dict__[name])


__all__ = ["CONTAINERS", "DEFAULTS", "BudgetContext", "Limits", "RenderBudgetExceeded", "check_chars",
           "check_value", "deep_size", "limits", "over"]
