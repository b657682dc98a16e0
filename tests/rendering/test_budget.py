"""The render budget: every construct that can take long or build much fails fast with RenderBudgetExceeded,
legitimate templates render as before, a template over budget fails at once afterwards, the budget is a setting."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from jinja2.sandbox import SandboxedEnvironment

from notifications.enums import Channel
from notifications.errors import NotificationConfigurationError, RenderBudgetExceeded, TemplateRenderError
from notifications.events.registry import event_registry
from notifications.rendering import budget, engine
from notifications.rendering.context import build_context
from notifications.tenants.models import Tenant
from notifications.testing import EXAMPLE_PAYLOADS

SECRET = "S3cret-Value-In-Context"


def _chain(name: str, depth: int) -> str:
    """`{% set a1 = [a0, a0] %}` ... : a list that doubles at each line, shared, not copied."""
    lines = [f"{{% set {name}0 = [1, 1] %}}"]
    lines += [f"{{% set {name}{i + 1} = [{name}{i}, {name}{i}] %}}" for i in range(depth)]
    return "".join(lines)


HOSTILE: dict[str, tuple[str, str]] = {
    "nested loops": ("{% for a in range(100000) %}{% for b in range(100000) %}{{ b }}{% endfor %}{% endfor %}",
                     "steps"),
    "nested loops printing nothing": (
        "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", "steps"),
    "loop filter": ("{% for a in range(100000) %}{% for b in range(100000) if b < 0 %}{% endfor %}{% endfor %}",
                    "steps"),
    "chained repetition": ("{{ (('x' * 9999) * 9999) }}", "size"),
    "repetition through variables": ("{% set a = secret * 999 %}{% set b = a * 999 %}{{ b|length }}", "size"),
    "padding filter": ("{{ 'x'|center(99999999) }}", "size"),
    "indent filter": ("{{ ('x\n' * 5000)|indent(99999) }}", "size"),
    "format filter width": ("{{ '%99999999s'|format('x') }}", "size"),
    "percent width": ("{{ '%99999999s' % secret }}", "size"),
    "percent star width": ("{{ '%*s' % (99999999, 'x') }}", "size"),
    "str.format width": ("{{ '{:>99999999}'.format(secret) }}", "size"),
    "str.format nested width": ("{{ '{:{}}'.format('x', 99999999) }}", "size"),
    "str.format precision": ("{{ '{:.99999999f}'.format(1.5) }}", "size"),
    "ljust method": ("{{ 'x'.ljust(99999999) }}", "size"),
    "rjust method": ("{{ 'x'.rjust(99999999) }}", "size"),
    "zfill method": ("{{ '1'.zfill(99999999) }}", "size"),
    "center method": ("{{ 'x'.center(99999999) }}", "size"),
    "expandtabs method": ("{{ ('\t' * 9999).expandtabs(9999) }}", "size"),
    "replace blow-up": ("{{ ('x' * 9999)|replace('x', 'y' * 9999) }}", "size"),
    "replace method blow-up": ("{{ ('x' * 9999).replace('x', 'y' * 9999) }}", "size"),
    "translate blow-up": ("{{ ('x' * 9999).translate({120: 'y' * 9999}) }}", "size"),
    "namespace accumulation": ("{% set ns = namespace(x='xx') %}{% for i in range(40) %}"
                               "{% set ns.x = ns.x ~ ns.x %}{% endfor %}{{ ns.x|length }}", "size"),
    "namespace list doubling": ("{% set ns = namespace(x=[1]) %}{% for i in range(40) %}"
                                "{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x }}", "size"),
    "shared list printed": (_chain("a", 40) + "{{ a40 }}", "size"),
    "shared lists compared": (_chain("a", 40) + _chain("b", 40) + "{{ a40 == b40 }}", "size"),
    "shared list joined": (_chain("a", 40) + "{{ a40|join }}", "size"),
    "shared list in a test": (_chain("a", 40) + _chain("b", 40) + "{{ a40 is in [b40] }}", "size"),
    "shared list in a dict's items": (_chain("a", 40) + "{% set d = {'k': a40} %}{{ d.items() }}", "size"),
    "shared list in a namespace": (_chain("a", 40) + "{{ namespace(x=a40) }}", "size"),
    "list repetition": ("{{ ([1] * 9999) * 9999 }}", "size"),
    "list of repeated lists": ("{{ [[1] * 9999] * 9999 }}", "size"),
    "list building by append": ("{% set l = [] %}{% for i in range(100000) %}{{ l.append('x' * 9999) }}"
                                "{% endfor %}{{ l|length }}", "size"),
    "list doubling by extend": ("{% set l = [1] %}{% for i in range(60) %}{{ l.extend(l) }}{% endfor %}", "size"),
    "join of a repeated list": ("{{ (['x' * 9999] * 9999)|join }}", "size"),
    "join method": ("{{ ''.join(['x' * 9999] * 9999) }}", "size"),
    "sum of lists": ("{{ ([[1] * 999] * 999)|sum(start=[]) }}", "size"),
    "batch fill": ("{{ [1]|batch(99999999, 'x')|list }}", "size"),
    "slice count": ("{{ [1]|slice(99999999)|list }}", "size"),
    "wordwrap": ("{{ ('x' * 9999)|wordwrap(1, wrapstring='y' * 9999) }}", "size"),
    "lipsum": ("{{ lipsum(99999) }}", "size"),
    "power": ("{{ 10 ** 100000 }}", "size"),
    "power chain": ("{{ ((10 ** 64) ** 64) ** 64 }}", "size"),
    "integer squaring": ("{% set ns = namespace(x=10 ** 60) %}{% for i in range(40) %}"
                         "{% set ns.x = ns.x * ns.x %}{% endfor %}{{ ns.x > 0 }}", "size"),
    "output of a loop": ("{% for i in range(100000) %}{{ 'x' * 9999 }}{% endfor %}", "output"),
    "text of a loop": ("{% for i in range(20000) %}" + "y" * 5000 + "{% endfor %}", "output"),
    "loop in a set block": ("{% set x %}{% for i in range(100000) %}{{ secret * 999 }}{% endfor %}{% endset %}"
                            "{{ x|length }}", "output"),
    "recursion via macro": ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "depth"),
    "branching macro": ("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                        "{{ f(30) }}", "steps"),
    "recursive loop": ("{% for x in [1] recursive %}{{ loop([1, 1]) }}{% endfor %}", "depth"),
    "recursive loop, wide": ("{% for x in [1] recursive %}{% if loop.depth < 3 %}{{ loop(range(100000)) }}"
                             "{% endif %}{% endfor %}", "steps"),
    "block called from itself": ("{% block b %}{% for i in range(9) %}{{ self.b() }}{% endfor %}{% endblock %}",
                                 "depth"),
    "calls in nested loops": ("{% set c = cycler(1, 2) %}{% for i in range(100000) %}{% for j in range(100000) %}"
                              "{{ c.next() }}{% endfor %}{% endfor %}", "steps"),
}


@pytest.mark.parametrize("source, limit", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_hostile_template_fails_fast_with_the_budget_error(source, limit):
    started = time.perf_counter()

    with pytest.raises(RenderBudgetExceeded) as raised:
        engine.render_sources(None, {"subject": "s", "body": source}, {"secret": SECRET}, label="template t")

    elapsed = time.perf_counter() - started
    assert elapsed < 1.0  # generous: the default budget ends these in a few tens of milliseconds
    # Work that is counted in steps may meet the deadline first on a busy machine: both stop it.
    assert raised.value.limit in ({"steps", "time"} if limit == "steps" else {limit})
    assert f"render budget exceeded ({raised.value.limit})" in str(raised.value)
    assert SECRET not in str(raised.value) and "xxxx" not in str(raised.value)
    assert isinstance(raised.value, TemplateRenderError)


def _default_jobs() -> list[tuple[Any, str, Channel, dict[str, Any]]]:
    jobs = []
    for event_type, payload in sorted(EXAMPLE_PAYLOADS.items()):
        handler = event_registry.get_handler(event_type)
        typed = handler.load_payload(handler.validate_payload(event_type, payload))
        context = build_context(handler, event_type=event_type, payload=typed, tenant=Tenant(id="acme", name="Acme"),
                                contact={"email": "john@example.com"}, event_id="e-1", user_id="u-1")
        jobs += [(handler, event_type, Channel(channel), context) for channel in handler.default_templates]
    return jobs


def _plain_env(field: str) -> SandboxedEnvironment:
    """Jinja's own sandbox, with the engine's options and filters: rendering as it was before the budget (and
    Jinja's own `{% trans %}`, gettext at render time, untranslated)."""
    plain = SandboxedEnvironment(autoescape=field in engine.HTML_FIELDS, trim_blocks=True, lstrip_blocks=True,
                                 extensions=["jinja2.ext.i18n"])
    plain.install_null_translations()  # type: ignore[attr-defined]
    ours = engine.env_for(field).filters
    plain.filters.update({name: getattr(ours[name], "__wrapped__", ours[name])
                          for name in ("money", "datetime", "date", "humanize")})
    return plain


def test_every_built_in_default_renders_as_without_the_budget():
    jobs = _default_jobs()
    assert len(jobs) >= 28
    for handler, event_type, channel, context in jobs:
        sources = handler.default_templates[channel]
        expected = {field: engine._tidy(field, _plain_env(field).from_string(source).render(context))
                    for field, source in sources.items()}
        assert handler.get_content(channel, event_type, context) == expected, (event_type, channel)


LEGITIMATE = [
    "{% for item in items %}{{ loop.index }}. {{ item.name|title }} x{{ item.qty }}{% if not loop.last %}, "
    "{% endif %}{% endfor %}",
    "{% for item in items if item.qty > 1 %}{{ item.name }}{% else %}none{% endfor %} / {{ items|length }}",
    "{% macro line(i) %}[{{ i.name|center(12) }}]{% endmacro %}{% for i in items %}{{ line(i) }}{% endfor %}",
    "{% set ns = namespace(total=0) %}{% for i in items %}{% set ns.total = ns.total + i.qty %}{% endfor %}"
    "{{ ns.total }} {{ '%05.1f'|format(ns.total) }} {{ '{:>8}'.format(name) }}",
    "{{ items|map(attribute='name')|join(', ') }} {{ name|replace('a', 'A') }} {{ (name ~ '!') * 3 }}",
    "{{ ('-' * 20) }}\n{{ name|indent(4, true) }}\n{{ name.ljust(10) }}|{{ items|batch(2)|list|length }}",
    "{% for x in tree recursive %}{{ x.name }}{% if x.children %}({{ loop(x.children) }}){% endif %}{% endfor %}",
    "{{ items|sum(attribute='qty') }} {{ [1, 2] + [3] }} {{ 2 ** 10 }} {{ {'a': 1} }} {{ items[0] == items[0] }}",
]


@pytest.mark.parametrize("source", LEGITIMATE)
def test_legitimate_constructs_render_as_without_the_budget(source):
    context = {"name": "banana", "items": [{"name": "pear", "qty": 2}, {"name": "fig", "qty": 1},
                                          {"name": "kiwi", "qty": 3}],
               "tree": [{"name": "a", "children": [{"name": "b", "children": []}]}, {"name": "c", "children": []}]}

    ours = engine.render_sources(None, {"body": source}, context, label="t")["body"]

    assert ours == engine._tidy("body", _plain_env("body").from_string(source).render(context))


def test_a_template_over_budget_fails_at_once_afterwards_until_a_new_version(monkeypatch):
    hostile = {"title": "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
               "body": "b"}
    renders = []
    real = engine._render
    monkeypatch.setattr(engine, "_render", lambda *args: renders.append(1) or real(*args))

    with pytest.raises(RenderBudgetExceeded) as first:
        engine.render_sources(("tenant", 7, 1, "digest"), hostile, {}, label="template t", tenant_id="acme")
    spent = len(renders)
    for _ in range(500):
        with pytest.raises(RenderBudgetExceeded) as again:
            engine.render_sources(("tenant", 7, 1, "digest"), hostile, {}, label="template t", tenant_id="acme")
        assert str(again.value) == str(first.value) and again.value.limit == "steps"
    assert len(renders) == spent  # not rendered again: the plan remembers

    fixed = {"title": "t", "body": "b"}
    assert engine.render_sources(("tenant", 7, 2, "other"), fixed, {}, label="template t") == fixed
    with pytest.raises(RenderBudgetExceeded):  # a new version that is still hostile is tried, and fails
        engine.render_sources(("tenant", 7, 3, "digest3"), hostile, {}, label="template t")
    assert len(renders) > spent + 1


def test_a_failed_combined_render_does_not_give_each_field_a_new_budget(monkeypatch):
    # Spends most of the steps, then fails with an ordinary error: the fields rendered one by one continue
    # the same budget instead of starting again.
    wasteful = "{% for a in range(15000) %}{% endfor %}{{ 1 // 0 }}"
    with override_settings(NOTIFICATIONS={**settings.NOTIFICATIONS, "TEMPLATE_BUDGET": {"steps": 20_000}}):
        with pytest.raises(RenderBudgetExceeded, match=r"\(steps\)"):
            engine.render_sources(None, {"subject": wasteful, "body": "{{ 1 // 0 }}"}, {}, label="t")


def test_the_budget_is_a_setting():
    loop = {"body": "{% for i in range(50) %}.{% endfor %}"}
    assert engine.render_sources(None, loop, {}, label="t") == {"body": "." * 50}

    with override_settings(NOTIFICATIONS={**settings.NOTIFICATIONS, "TEMPLATE_BUDGET": {"steps": 10}}):
        assert budget.limits().steps == 10 and budget.limits().value_chars == budget.DEFAULTS.value_chars
        with pytest.raises(RenderBudgetExceeded, match=r"\(steps\): more than 10 "):
            engine.render_sources(None, loop, {}, label="t")
    with override_settings(NOTIFICATIONS={**settings.NOTIFICATIONS, "TEMPLATE_BUDGET": {"output_chars": 20}}):
        with pytest.raises(RenderBudgetExceeded, match=r"\(output\)"):
            engine.render_sources(None, {"body": "x" * 21}, {}, label="t")
    assert budget.limits() == budget.DEFAULTS


@pytest.mark.parametrize("value", [{"steps": 0}, {"stpes": 10}, {"seconds": "1"}, ["steps"], {"depth": True}])
def test_a_wrong_budget_setting_is_a_configuration_error(value):
    with override_settings(NOTIFICATIONS={**settings.NOTIFICATIONS, "TEMPLATE_BUDGET": value}):
        with pytest.raises(NotificationConfigurationError, match="TEMPLATE_BUDGET"):
            budget.limits()


def test_the_deadline_is_checked_at_every_step(monkeypatch):
    clock = iter(range(0, 10_000))  # each reading a second later than the one before
    monkeypatch.setattr(budget, "_perf_counter", lambda: float(next(clock)))

    with pytest.raises(RenderBudgetExceeded, match=r"\(time\): over 0.1 s"):
        engine.render_sources(None, {"body": "{% for i in range(5) %}{{ i }}{% endfor %}"}, {}, label="t")


@pytest.mark.parametrize("error", [RecursionError, MemoryError])
def test_recursion_and_memory_errors_become_render_errors(error):
    def boom(value: Any) -> str:
        raise error("deep")

    with pytest.raises(TemplateRenderError, match=f"field 'body': {error.__name__}"):
        engine.render_sources(None, {"body": "{{ boom(x) }}"}, {"x": 1, "boom": boom}, label="t")


def test_one_slow_moment_does_not_fail_a_template_for_good(monkeypatch):
    """The clock also counts a garbage collection or a busy host: a template over the time limit once renders
    again when time runs normally; only TIME_STRIKES renders in a row over it are remembered."""
    key = ("tenant-template", 1, "slow-once")
    sources = {"body": "{% for i in range(3) %}{{ i }}{% endfor %}"}
    real = budget._perf_counter
    slow = {"on": True}
    ticks = iter(range(10_000))
    monkeypatch.setattr(budget, "_perf_counter", lambda: float(next(ticks)) if slow["on"] else real())

    with pytest.raises(RenderBudgetExceeded, match="time"):
        engine.render_sources(key, sources, {}, label="t")
    slow["on"] = False
    assert engine.render_sources(key, sources, {}, label="t") == {"body": "012"}

    slow["on"] = True
    for _ in range(engine.TIME_STRIKES):
        with pytest.raises(RenderBudgetExceeded, match="time"):
            engine.render_sources(key, sources, {}, label="t")
    slow["on"] = False
    with pytest.raises(RenderBudgetExceeded, match="time"):  # remembered now: fails at once
        engine.render_sources(key, sources, {}, label="t")
