"""Which language a recipient reads: the fallback chain a template (a tenant's, a tenant-defined event type's or
a built-in default) is looked up along.

`fallback_chain("de-AT", tenant_default="fr")` is ("de-AT", "de", "fr", "en"): the recipient's locale, each
shorter form of it, the tenant's default locale and its shorter forms, then the built-in default language.
Locales are written as BCP 47 tags (`de-AT`, `zh-Hant-TW`); Babel's forms (`de_AT`) and any case are accepted.
The chain depends on the names only (never on the clock or a zone), and is cached."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from notifications.i18n import text_language

#: The language every built-in text exists in: the end of every chain.
BUILTIN_LOCALE = "en"
#: The longest locale tag accepted anywhere (a template's locale, a preview's, a tenant's default).
MAX_LOCALE = 35


@lru_cache(maxsize=1024)
def canonical(tag: str | None) -> str | None:
    """'de_at' -> 'de-AT', 'ZH_hant_tw' -> 'zh-Hant-TW'; None for an empty or unknown tag."""
    if not tag or not isinstance(tag, str) or len(tag) > MAX_LOCALE:
        return None
    try:
        parsed = Locale.parse(tag.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    return "-".join(part for part in (parsed.language, parsed.script, parsed.territory) if part)


def _shorter_forms(tag: str) -> list[str]:
    parts = tag.split("-")
    return ["-".join(parts[:size]) for size in range(len(parts), 0, -1)]


@lru_cache(maxsize=1024)
def fallback_chain(locale: str | None, tenant_default: str | None = None) -> tuple[str, ...]:
    """The locales to look a text up in, most specific first, ending with BUILTIN_LOCALE."""
    chain: list[str] = []
    for tag in (canonical(locale), canonical(tenant_default), BUILTIN_LOCALE):
        for form in _shorter_forms(tag) if tag else ():
            if form not in chain:
                chain.append(form)
    return tuple(chain)


@dataclass(frozen=True, slots=True)
class LocalePlan:
    """What a recipient's texts are looked up by (rendering.context puts it in the context as `locale_plan`):
    `chain` the tenant's templates are looked for along, `tenant_step` the locale of the chain whose step also
    takes the tenant's template without a locale (""), `language` the built-in texts are shown in."""

    chain: tuple[str, ...]
    tenant_step: str
    language: str
    default_source: str  # RenderedContent.source of a built-in text: "default[de]", made once per plan


@lru_cache(maxsize=1024)
def locale_plan(locale: str | None, tenant_default: str | None = None) -> LocalePlan:
    """The plan of a recipient in `locale` of a tenant whose default locale is `tenant_default` (either may be
    blank). The "" template is the tenant's template in its default locale (BUILTIN_LOCALE when it set none)."""
    chain = fallback_chain(locale, tenant_default)
    language = text_language(chain)
    return LocalePlan(chain, canonical(tenant_default) or BUILTIN_LOCALE, language, f"default[{language}]")
