"""notifications/rendering/translate.py: `{% trans %}` translated when compiling, in each language's own
environments; English is the template as if written without the blocks; plurals by the language's rule."""

from __future__ import annotations

from notifications.rendering import engine

SOURCE = "{% trans name=first_name or 'you' %}Hi {{ name }},{% endtrans +%}\n{% trans %}Reset your password: {{ reset_link }}{% endtrans %}"  # noqa: E501
PLAIN = "Hi {{ first_name or 'you' }},\nReset your password: {{ reset_link }}"
CONTEXT = {"first_name": "Jo", "reset_link": "https://x/r"}


def render(source, context, language="en"):
    return engine.env_for("body", language).from_string(source).render(context)


def test_english_is_the_template_without_its_trans_blocks():
    assert render(SOURCE, CONTEXT) == render(PLAIN, CONTEXT) == "Hi Jo,\nReset your password: https://x/r"
    assert render(SOURCE, {"reset_link": "l"}) == "Hi you,\nReset your password: l"


def test_a_language_is_translated_when_compiling_not_when_rendering():
    assert render(SOURCE, CONTEXT, "de") == "Hallo Jo,\nPasswort zurücksetzen: https://x/r"
    code = engine.env_for("body", "de").compile(SOURCE, raw=True)
    assert "gettext" not in code and "Passwort zurücksetzen: " in code


def test_percent_signs_and_html_escaping_stay_as_in_a_plain_template():
    assert render("{% trans %}100% sure{% endtrans %}", {}) == "100% sure"
    assert render("{% trans %}{{ n }}% done{% endtrans %}", {"n": 5}) == "5% done"
    html = engine.env_for("html", "fr").from_string("{% trans %}Reply: {{ link }}{% endtrans %}")
    assert html.render(link="<b>") == "Répondre : &lt;b&gt;"


def test_plural_blocks_follow_the_languages_rule():
    source = "{% trans %}{{ count }} new like{% pluralize %}{{ count }} new likes{% endtrans %}"
    assert [render(source, {"count": n}) for n in (0, 1, 2)] == ["0 new likes", "1 new like", "2 new likes"]
    assert [render(source, {"count": n}, "fr") for n in (0, 1, 2)] == [
        "0 nouveau « J'aime »", "1 nouveau « J'aime »", "2 nouveaux « J'aime »"]
    assert [render(source, {"count": n}, "de") for n in (0, 1, 2)] == [
        "0 neue „Gefällt mir“", "1 neues „Gefällt mir“", "2 neue „Gefällt mir“"]


def test_a_message_without_a_translation_stays_english():
    assert render("{% trans %}Not in any catalog{% endtrans %}", {}, "es") == "Not in any catalog"


def test_plural_forms_are_compiled_in_and_a_count_that_is_no_number_takes_the_last():
    source = "{% trans %}{{ count }} new mention{% pluralize %}{{ count }} new mentions{% endtrans %}"
    for language in ("en", "de", "fr", "es"):
        assert "ngettext" not in engine.env_for("body", language).compile(source, raw=True)
    assert render(source, {"count": None}, "fr") == "None nouvelles mentions"
    assert render(source, {"count": "1"}, "fr") == "1 nouvelle mention"
    assert render(source, {"count": None}) == "None new mentions"  # as ngettext's English rule
    assert render(source, {"count": 1_000_000}, "fr") == "1000000 nouvelles mentions"  # CLDR's "many"


def test_an_untranslated_plural_message_takes_englishs_rule():
    source = "{% trans %}{{ count }} apple{% pluralize %}{{ count }} apples{% endtrans %}"
    assert [render(source, {"count": n}, "fr") for n in (0, 1)] == ["0 apples", "1 apple"]
