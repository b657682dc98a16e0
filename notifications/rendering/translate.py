"""`{% trans %}` in templates, translated when a template is compiled rather than each time it renders.

Each language has its own pair of environments (engine.env_for); in a language's environment this extension
looks a `{% trans %}` block's message up in the language's catalog (notifications.i18n) while parsing, and puts
the translated text in the template as if it had been written there: `{% trans %}Hi {{ name }},{% endtrans %}`
compiles, in German, to what `Hallo {{ name }},` compiles to. Rendering a translated template costs what
rendering a plain one costs (no gettext call, no `%` formatting), and in English a template is the very
template it was before it had `{% trans %}` blocks: the English output cannot change.

A `{% pluralize %}` block becomes an `if` over its translated forms, each compiled as above; the test picks the
form by the catalog's plural rule (its Plural-Forms header: French takes 0 as singular, German and Spanish do
not), or by English's when the catalog lacks the message (as gettext's ngettext falls back): `{% if count is
plural_fr(0) %}`. Fast path, "plural forms compiled": Jinja's own node called `ngettext` through the sandbox
and `%`-formatted its result at each render, 8 us a message (a push of content.liked 4.7 -> 12.8 us,
bench/render_locale.py); the `if` costs what a plain template's `{% if %}` costs. Equal to the slow path:
tests/rendering/test_budget.py renders every built-in text as Jinja's own extension does, test_translate.py
the plural forms of each language."""

from __future__ import annotations

import gettext
import re
from typing import Any

from jinja2 import nodes
from jinja2.ext import InternationalizationExtension

from notifications.i18n import LANGUAGES, SOURCE_LANGUAGE, translations

# What Jinja's trans block writes into a message: `%(name)s` for a variable, `%%` for a percent sign.
_MARKERS = re.compile(r"%\((\w+)\)s|%%")


class CompiledTranslation(InternationalizationExtension):
    """Jinja's i18n extension, with messages translated at parse time by the environment's
    `compiled_translations` (set by `install`), plural ones as an `if` over their forms. The message ids are
    Jinja's own, so the extractor (rendering.messages) and the catalogs are those of the standard extension. A
    block with a context (`pgettext`) is left to Jinja."""

    def _make_node(
        self, singular: str, plural: str | None, context: str | None, variables: dict[str, nodes.Expr],
        plural_expr: nodes.Expr | None, vars_referenced: bool, num_called_num: bool,
    ) -> nodes.Output:
        if context is not None:
            return super()._make_node(singular, plural, context, variables, plural_expr, vars_referenced,
                                      num_called_num)
        catalog: gettext.NullTranslations = getattr(self.environment, "compiled_translations", _IDENTITY)
        if not vars_referenced:
            singular, plural = singular.replace("%%", "%"), plural.replace("%%", "%") if plural else plural
        if plural_expr is None or plural is None:
            return self._output(catalog.gettext(singular), variables, vars_referenced)
        forms, test = plural_forms(catalog, singular, plural, getattr(self.environment, "compiled_language", "en"))
        branches = [[self._output(form, variables, vars_referenced)] for form in forms]
        tests: list[nodes.Expr] = [nodes.Test(plural_expr, test, [nodes.Const(index)], [], None, None)
                                   for index in range(len(forms))]
        if test == _ENGLISH_TEST and len(forms) == 2:  # `count == 1`, inline: no call (ngettext's own rule)
            tests[0] = nodes.Compare(plural_expr, [nodes.Operand("eq", nodes.Const(1))])
        if len(forms) == 1:
            return branches[0][0]
        elifs = [nodes.If(tests[index], branches[index], [], []) for index in range(1, len(forms) - 1)]
        return nodes.If(tests[0], branches[0], elifs, branches[-1])  # type: ignore[return-value]

    @staticmethod
    def _output(text: str, variables: dict[str, nodes.Expr], vars_referenced: bool) -> nodes.Output:
        return nodes.Output(_parts(text, variables) if vars_referenced else [nodes.TemplateData(text)])


def _parts(text: str, variables: dict[str, nodes.Expr]) -> list[nodes.Node]:
    """'Hallo %(name)s, 100%% sicher' -> [TemplateData('Hallo '), <name's expression>, TemplateData(', 100% sicher')].
    A variable the translation names but the block does not define is a name from the context, as Jinja's
    gettext formatting would have failed on it: looked up like `{{ name }}`."""
    parts: list[nodes.Node] = []
    data: list[str] = []
    position = 0
    for match in _MARKERS.finditer(text):
        data.append(text[position:match.start()])
        position = match.end()
        name = match.group(1)
        if name is None:
            data.append("%")
            continue
        if data and "".join(data):
            parts.append(nodes.TemplateData("".join(data)))
        data = []
        parts.append(variables.get(name) or nodes.Name(name, "load"))
    data.append(text[position:])
    if "".join(data):
        parts.append(nodes.TemplateData("".join(data)))
    return parts


_IDENTITY = gettext.NullTranslations()
def plural_test(language: str) -> str:
    """The test a plural block's `if` asks, `count is plural_de(1)`: every environment has one per language, so
    a template written out in one language (rendering.flatten) reads the same in any environment."""
    return f"plural_{language}"


def plural_forms(catalog: gettext.NullTranslations, singular: str, plural: str,
                  language: str) -> tuple[list[str], str]:
    """The message's forms in the catalog's order and the test that picks one; English's when untranslated."""
    table: dict[Any, str] = getattr(catalog, "_catalog", {})  # GNUTranslations' (msgid, index) -> form
    forms: list[str] = []
    while (singular, len(forms)) in table:
        forms.append(table[(singular, len(forms))])
    return (forms, plural_test(language)) if forms else ([singular, plural], plural_test(SOURCE_LANGUAGE))


def _english_index(count: Any) -> int:
    return 0 if count == 1 else 1


def _form_test(language: str) -> Any:
    """`count is plural_<language>(form)`. The language's rule is read on first use; a count that is not a whole
    number takes the last form (no test matches: the `else`), never a render error."""
    rule: list[Any] = []

    def test(count: Any, form: int) -> bool:
        if not rule:
            rule.append(getattr(translations(language), "plural", None) or _english_index)
        try:
            return int(rule[0](int(count))) == form
        except (TypeError, ValueError, OverflowError):
            return False
    return test


_FORM_TESTS = {plural_test(language): _form_test(language) for language in LANGUAGES}


_ENGLISH_TEST = plural_test(SOURCE_LANGUAGE)


def install(env: Any, language: str) -> None:
    """Bind `language` to an environment made with CompiledTranslation: parse-time messages and the plural tests.
    No runtime `gettext`, `ngettext` or `_` globals: a template translates with `{% trans %}` only, and every
    render copies the globals into its scope (engine.render_sources), so they would cost every render."""
    env.compiled_translations, env.compiled_language = translations(language), language
    env.globals.pop("_", None)
    env.tests.update(_FORM_TESTS)


__all__ = ["CompiledTranslation", "install", "plural_forms", "plural_test"]
