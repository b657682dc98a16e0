"""The sandboxed Jinja engine and the compiled-template cache.

Templates are compiled once per (template id, version) and per default source, and per language: each language
has its own environments, whose `{% trans %}` blocks are translated when compiling (rendering.translate), so a
cache key names its language (the callers put it last). Saving a template bumps its version, so every process
picks up the new one on its next batch without stale entries."""

from __future__ import annotations

import html
import re
import secrets
import textwrap
import threading
from collections.abc import Mapping
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from notifications import formatting
from notifications.enums import Channel
from notifications.errors import RenderBudgetExceeded, TemplateRenderError
from notifications.i18n import LANGUAGES, SOURCE_LANGUAGE
from notifications.rendering import budget
from notifications.rendering.sandbox import make_env
from notifications.rendering.translate import CompiledTranslation, install

HTML_FIELDS = frozenset({"html"})
SINGLE_LINE_FIELDS = frozenset({"subject", "title"})


def _make_env(autoescape: bool, language: str = SOURCE_LANGUAGE) -> SandboxedEnvironment:
    env = make_env(autoescape, dict(
        money=lambda amount, currency=None, locale=formatting.DEFAULT_LOCALE: formatting.format_money(
            amount, currency, locale
        ),
        datetime=formatting.datetime_filter,  # in the recipient's zone: the context's `timezone`
        date=formatting.date_filter,
        humanize=formatting.humanize_code,
    ), extensions=(CompiledTranslation,))
    install(env, language)
    return env


#: (text, html) environments per language; made on first use (their catalog is read then).
_ENVS: dict[str, tuple[SandboxedEnvironment, SandboxedEnvironment]] = {}
_ENVS_LOCK = threading.Lock()


def _envs(language: str) -> tuple[SandboxedEnvironment, SandboxedEnvironment]:
    pair = _ENVS.get(language)
    if pair is None:
        if language not in LANGUAGES:
            raise LookupError(f"no built-in texts in language {language!r} (languages: {', '.join(LANGUAGES)})")
        with _ENVS_LOCK:
            pair = _ENVS.get(language) or (_make_env(False, language), _make_env(True, language))
            _ENVS[language] = pair
    return pair


TEXT_ENV, HTML_ENV = _envs(SOURCE_LANGUAGE)


def env_for(field: str, language: str = SOURCE_LANGUAGE) -> SandboxedEnvironment:
    return _envs(language)[1 if field in HTML_FIELDS else 0]


def _compile(env: SandboxedEnvironment, source: str) -> Any:
    template = env.from_string(source)
    # Jinja keeps a template's globals as a ChainMap over the environment's, and copies them into a new context
    # on every render; a plain dict (the environment's globals never change after start) makes that copy a
    # C-level one. It was the largest cost of rendering.
    template.globals = dict(template.globals)
    return template


def _combine(sources: list[str], language: str) -> Any:
    """One template rendering several text fields, each in its own `with` scope, joined by _SEPARATOR; None
    when they do not compile together (the fields are then rendered one by one). Kept in the field set's plan."""
    # The newline after `{% with %}` is eaten by trim_blocks and makes the field's first line a line start
    # again, as it is when the field is rendered alone (lstrip_blocks then strips what precedes a tag).
    try:
        combined = _SEPARATOR.join(f"{{% with %}}\n{source}{{% endwith %}}" for source in sources)
        return _compile(_envs(language)[0], combined)
    except TemplateError:
        return None


class _TemplateCache:
    def __init__(self) -> None:
        self._compiled: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, field: str, source: str, language: str = SOURCE_LANGUAGE) -> Any:
        """The compiled template of one field. A key of None compiles without keeping it (drafts). A key names
        its language (see the module's docstring)."""
        full_key = (key, field)
        template = self._compiled.get(full_key) if key is not None else None
        if template is None:
            template = _compile(env_for(field, language), source)
            if key is not None:
                with self._lock:
                    self._compiled[full_key] = template
        return template

    def plan(self, key: Any, sources: Mapping[str, Any], language: str = SOURCE_LANGUAGE) -> _Plan:
        """What rendering `sources` takes, worked out once per key: the fields in order, the text fields and
        their combined template. Every render of a cached template used to redo this (a fifth of its cost)."""
        full_key = (key, ("plan",))
        plan = self._compiled.get(full_key) if key is not None else None
        if plan is None:
            fields = tuple(field for field, source in sources.items() if isinstance(source, str))
            text_fields = tuple(field for field in fields if field not in HTML_FIELDS)
            combined = (_combine([sources[field] for field in text_fields], language) if len(text_fields) > 1
                        else None)
            plan = _Plan(fields, text_fields, combined)
            if key is not None:
                with self._lock:
                    self._compiled[full_key] = plan
        return plan

    def invalidate(self, predicate: Any) -> None:
        with self._lock:
            for key in [k for k in self._compiled if predicate(k[0])]:
                del self._compiled[key]

    def __len__(self) -> int:
        return len(self._compiled)


cache = _TemplateCache()


def _tidy(field: str, text: str) -> str:
    if "\n" not in text:
        return " ".join(text.split()) if field in SINGLE_LINE_FIELDS else text.strip()
    if field in SINGLE_LINE_FIELDS:
        return " ".join(text.split())
    if field in HTML_FIELDS:
        return text.strip()
    # Fast path, "nothing to dedent": textwrap.dedent only removes the spaces and tabs that start every line
    # (and blanks lines of them); a text where no line starts with one is its own dedent. A rendered e-mail
    # body: _tidy 6.8 -> 1.7 us, with the blank-line runs looked for before the regex (best of 30 runs on the
    # handlers' default bodies: e-mail sends gain it, intake's in-app bodies are mostly one line).
    if text[0] in " \t" or "\n " in text or "\n\t" in text:
        text = textwrap.dedent(text)
    lines = text.strip("\n").splitlines()
    cleaned = "\n".join(line.rstrip() for line in lines)
    return (_BLANK_RUNS.sub("\n\n", cleaned) if "\n\n\n" in cleaned else cleaned).strip()


_BLANK_RUNS = re.compile(r"\n{3,}")


# Fields rendered in one pass are joined by this (a string no template or value carries), each in its own scope.
_SEPARATOR = f"\x1e{secrets.token_hex(8)}\x1e\n"
# RecursionError and MemoryError too: a template must not take its caller (an intake batch, a worker) down.
_RENDER_ERRORS = (TemplateError, ArithmeticError, ValueError, TypeError, LookupError, AttributeError,
                  RecursionError, MemoryError)


def _render(template: Any, scope: dict[str, Any], spent: list[Any] | None = None) -> str:
    """Template.render() without its per-call copy of the globals and the context: `scope` is built once per
    call of render_sources and shared by its templates (a template's own assignments go to its own frame).
    The context is made directly, as new_context(scope, shared=True) makes it, less the set of global names it
    keeps only for `{% import %}`, which these loader-less templates cannot do. `spent`: the contexts of the
    renders of these fields so far; this one continues the last one's budget."""
    env = template.environment
    context = env.context_class(env, scope, template.name, template.blocks)
    if spent is not None:
        if spent:
            context.carry_from(spent[-1])
        spent.append(context)
    text = "".join(template.root_render_func(context))
    if len(text) > (budget._current or budget.limits()).output_chars:
        raise budget.over("output")
    return text


class _Plan:
    __slots__ = ("combined", "fields", "in_order", "over_budget", "text_fields", "time_strikes")

    def __init__(self, fields: tuple[str, ...], text_fields: tuple[str, ...], combined: Any) -> None:
        self.fields, self.text_fields, self.combined = fields, text_fields, combined
        self.in_order = fields == text_fields  # the combined pass alone yields every field, in order
        # (budget limits, message, limit) once a render went over budget: later renders fail at once.
        self.over_budget: tuple[Any, str, str] | None = None
        self.time_strikes = 0  # renders in a row over the time limit (a busy moment is not the template's fault)


TIME_STRIKES = 3


def render_sources(
    cache_key: Any, sources: Mapping[str, str], context: Mapping[str, Any], *, label: str, tenant_id: str = "",
    language: str = SOURCE_LANGUAGE,
) -> dict[str, str]:
    """`language`: what `{% trans %}` blocks are translated into; `cache_key` must name it (or be None)."""
    plan = cache.plan(cache_key, sources, language)
    if plan.over_budget is not None and plan.over_budget[0] is budget.limits():
        raise RenderBudgetExceeded(plan.over_budget[1], limit=plan.over_budget[2], tenant_id=tenant_id or None)
    scope = {**(_GLOBALS if language == SOURCE_LANGUAGE else _envs(language)[0].globals), **context}
    rendered: dict[str, str] = {}
    spent: list[Any] = []
    field = ""
    try:
        if plan.combined is not None:
            # Every Jinja render has a fixed cost larger than rendering a short field: the text fields (subject
            # and body, title and body and link) go through one template. Any error but the budget's is left to
            # the one-by-one pass below, which names the field and continues the budget spent here.
            try:
                parts = _render(plan.combined, scope, spent).split(_SEPARATOR)
            except _RENDER_ERRORS:
                parts = []
            if len(parts) == len(plan.text_fields):
                rendered = {field: _tidy(field, part) for field, part in zip(plan.text_fields, parts, strict=True)}
                if plan.in_order:
                    plan.time_strikes = 0
                    return rendered
        for field in plan.fields:
            if field not in rendered:
                template = cache.get(cache_key, field, sources[field], language)
                rendered[field] = _tidy(field, _render(template, scope, spent))
    except RenderBudgetExceeded as err:
        # Remembered in the plan (one per template version): the same template fails at once from now on,
        # rather than each of its records spending the budget again. A new version has a new plan. Every limit
        # but time gives the same answer for the same template each time; the clock also counts a garbage
        # collection or a busy host, so time is remembered only after TIME_STRIKES renders in a row.
        message = f"cannot render {label}: {err.message}"
        if err.limit == "time":
            plan.time_strikes += 1
        if cache_key is not None and (err.limit != "time" or plan.time_strikes >= TIME_STRIKES):
            plan.over_budget = (budget.limits(), message, err.limit)
        raise RenderBudgetExceeded(message, limit=err.limit, tenant_id=tenant_id or None) from None
    except _RENDER_ERRORS as err:
        # The message names the template and the error kind, never context values (they may be secrets).
        raise TemplateRenderError(
            f"cannot render {label} field {field!r}: {type(err).__name__}", tenant_id=tenant_id or None
        ) from err
    plan.time_strikes = 0
    return {field: rendered[field] for field in plan.fields}


_GLOBALS = TEXT_ENV.globals  # both environments are made alike; their globals never change after start
_DEFAULT_KEYS: dict[tuple[type, Channel, int, str], tuple[Any, str, Mapping[str, str]]] = {}


def default_key(handler_cls: type, channel: Channel, sources: Mapping[str, str],
                language: str = SOURCE_LANGUAGE) -> tuple[Any, str]:
    """(cache key, label for errors) of a handler's default templates for a channel in a language. The entry
    holds `sources` itself: while it lives no other mapping can take its id, so a key never names two sets."""
    memo = (handler_cls, channel, id(sources), language)
    entry = _DEFAULT_KEYS.get(memo)
    if entry is None or entry[2] is not sources:
        key = ("default", handler_cls.__module__, handler_cls.__qualname__, channel.value, id(sources), language)
        entry = _DEFAULT_KEYS[memo] = (key, f"{handler_cls.__name__} default {channel.value}", sources)
    return entry[0], entry[1]


def render_default(
    handler_cls: type, channel: Channel, sources: Mapping[str, str], context: Mapping[str, Any]
) -> dict[str, str]:
    """A handler's default content, in the context's language (rendering.context sets `locale_plan`)."""
    plan = context.get("locale_plan")
    language = plan.language if plan is not None else SOURCE_LANGUAGE
    key, label = default_key(handler_cls, channel, sources, language)
    return render_sources(key, sources, context, label=label, language=language)


def compile_ahead(key: Any, sources: Mapping[str, str], language: str = SOURCE_LANGUAGE) -> None:
    """Compile what rendering `sources` under `key` will use, now rather than on the first render."""
    plan = cache.plan(key, sources, language)
    for field in plan.fields:
        if plan.combined is None or field not in plan.text_fields:
            cache.get(key, field, sources[field], language)


def html_from_text(body: str, context: Mapping[str, Any]) -> str:
    """An HTML alternative for a text e-mail: escaped, links clickable, the tenant's name and colour on top."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", body.strip()):
        escaped = html.escape(block)
        linked = re.sub(r"(https?://[^\s<]+?)(?=[.,;:!?)]*(?:\s|$))", r'<a href="\1">\1</a>', escaped)
        paragraphs.append(f"<p>{linked.replace(chr(10), '<br>')}</p>")
    company = html.escape(str(context.get("company_name") or ""))
    color = str(context.get("primary_color") or "#1f6feb")
    if not re.fullmatch(r"#[0-9A-Fa-f]{3,8}", color):
        color = "#1f6feb"
    return (
        '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5;color:#222">'
        f'<div style="border-top:4px solid {color};padding:16px;max-width:600px">'
        f'<h2 style="margin-top:0">{company}</h2>{"".join(paragraphs)}</div></body></html>'
    )
