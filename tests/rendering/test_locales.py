from datetime import UTC, datetime

import pytest
import time_machine

from notifications.rendering.locales import BUILTIN_LOCALE, LocalePlan, canonical, fallback_chain, locale_plan


@pytest.mark.parametrize(("tag", "expected"), [
    ("de-AT", "de-AT"), ("de_at", "de-AT"), ("DE", "de"), ("zh_Hant_TW", "zh-Hant-TW"), ("fr-FR", "fr-FR"),
    ("", None), (None, None), ("xx-not-a-locale", None), ("de-" + "A" * 60, None),
])
def test_canonical(tag, expected):
    assert canonical(tag) == expected


def test_chain_walks_region_language_tenant_default_then_builtin():
    assert fallback_chain("de-AT", "fr") == ("de-AT", "de", "fr", "en")
    assert fallback_chain("de_AT") == ("de-AT", "de", "en")
    assert fallback_chain("zh-Hant-TW", "es-MX") == ("zh-Hant-TW", "zh-Hant", "zh", "es-MX", "es", "en")


def test_chain_repeats_nothing_and_always_ends_with_the_builtin_language():
    chain = fallback_chain("en-GB", "en-US")
    assert len(chain) == len(set(chain))
    assert chain == ("en-GB", "en", "en-US")
    assert BUILTIN_LOCALE in chain
    assert fallback_chain(None) == ("en",)
    assert fallback_chain("garbage!", "also garbage") == ("en",)


DST_CHANGES = [datetime(2026, 3, 29, 0, 59, tzinfo=UTC), datetime(2026, 3, 29, 1, 1, tzinfo=UTC),
               datetime(2026, 10, 25, 0, 59, tzinfo=UTC), datetime(2026, 10, 25, 1, 1, tzinfo=UTC)]


@pytest.mark.parametrize("moment", DST_CHANGES)
def test_chain_does_not_depend_on_the_clock_across_dst_changes(moment):
    fallback_chain.cache_clear()
    with time_machine.travel(moment, tick=False):
        assert fallback_chain("de-AT", "fr-CH") == ("de-AT", "de", "fr-CH", "fr", "en")


def test_plan_puts_the_tenants_default_template_at_its_default_locales_step():
    plan = locale_plan("de_AT", "fr")
    assert plan == LocalePlan(("de-AT", "de", "fr", "en"), "fr", "de", "default[de]")
    assert locale_plan("ja", None) == LocalePlan(("ja", "en"), "en", "en", "default[en]")  # "" at the end's step
    assert locale_plan("ja", "es-MX").language == "es"  # no catalog of ja: the tenant default's language
    assert locale_plan(None, "garbage").tenant_step == "en"
