"""`{% trans %}` in templates, translated when a template is compiled rather than each time it renders.

Each language has its own pair of environments (engine.env_for); in a language's environment this extension
looks a `{% trans %}` block's message up in the language's catalog (notifications.i18n) while parsing, and puts
the translated text in the template as if it had been written there: `{% trans %}Hi {{ name }},{% endtrans %}`
compiles, in German, to what `Hallo {{ name }},` compiles to. Rendering a translated template costs what
rendering a plain one costs (no gettext call, no `%` formatting), and in English a template is the very
template it was before it had `{% trans %}` blocks: the English output cannot change.

`{% pluralize %}` blocks are left to gettext at render time (Jinja's own node calling the language's `ngettext`,
whose plural rule comes from the catalog's Plural-Forms header: French takes 0 as singular)."""

from __future__ import annotations

import gettext
import re
from typing import Any

from jinja2 import nodes
from jinja2.ext import InternationalizationExtension

# What Jinja's trans block writes into a message: `%(name)s` for a variable, `%%` for a percent sign.
_MARKERS = re.compile(r"%\((\w+)\)s|%%")


class CompiledTranslation(InternationalizationExtension):
    """Jinja's i18n extension, with singular messages translated at parse time by the environment's
    `compiled_translations` (set by engine._make_env). The message ids are Jinja's own, so the extractor
    (rendering.messages) and the catalogs are those of the standard extension."""

    def _make_node(
        self, singular: str, plural: str | None, context: str | None, variables: dict[str, nodes.Expr],
        plural_expr: nodes.Expr | None, vars_referenced: bool, num_called_num: bool,
    ) -> nodes.Output:
        if plural_expr is not None or context is not None:
            return super()._make_node(singular, plural, context, variables, plural_expr, vars_referenced,
                                      num_called_num)
        catalog: gettext.NullTranslations = getattr(self.environment, "compiled_translations", _IDENTITY)
        if not vars_referenced:
            return nodes.Output([nodes.TemplateData(catalog.gettext(singular.replace("%%", "%")))])
        return nodes.Output(_parts(catalog.gettext(singular), variables))


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


def install(env: Any, catalog: gettext.NullTranslations) -> None:
    """Bind `catalog` to an environment made with CompiledTranslation: parse-time messages and the runtime
    `ngettext` of plural blocks."""
    env.compiled_translations = catalog
    env.install_gettext_translations(catalog, newstyle=False)


__all__ = ["CompiledTranslation", "install"]
