"""Pieces of the built-in handlers' default texts shared by several of them. The texts are Jinja with
`{% trans %}` blocks: each block is one message of the gettext catalogs (notifications/locale), shown in the
recipient's language (rendering.translate); `{% endtrans +%}` keeps the line break after a block that ends a
line (trim_blocks would eat it).

A message holds a whole sentence with its variables (`{{ name }}`: only names inside a block, so a fallback
such as "there" is a block of its own), so a translator can reorder it."""

from __future__ import annotations

from gettext import NullTranslations
from typing import Any

from notifications.formatting import humanize_code
from notifications.i18n import SOURCE_LANGUAGE, translations


def greeting(name: str) -> str:
    """"Hi Jane," (the context's `name`) or "Hi there,", then its line break."""
    return (f"{{% if {name} %}}{{% trans name={name} %}}Hi {{{{ name }}}},{{% endtrans %}}"
            "{% else %}{% trans %}Hi there,{% endtrans %}{% endif +%}\n")


GREETING = greeting("first_name")


def by_others(sentence: str, others: str, who: str = "liker", line_end: bool = False) -> str:
    """A sentence about what `who` did alone, or `who` and `others` more people (a plural message, whose
    singular and plural differ by ' other ' / ' others '). `line_end`: the sentence ends a line (keeps its
    line break)."""
    return (f"{{% if others %}}{{% trans who={who}, count=others %}}{others}{{% pluralize count %}}"
            f"{others.replace(' other ', ' others ')}{{% endtrans %}}{{% else %}}{{% trans who={who} %}}{sentence}"
            f"{{% endtrans %}}{{% endif {'+' if line_end else ''}%}}")


def liked(sentence: str, others: str, line_end: bool = False) -> str:
    return by_others(sentence, others, "liker", line_end)


# "Jane liked your My first post" (the guide's wording), "Jane and 2 others liked \"My first post\"."
LIKED_YOUR_TITLE = liked("{{ who }} liked your {{ content_title }}",
                         "{{ who }} and {{ count }} other liked your {{ content_title }}")
LIKED_YOUR_POST = liked("{{ who }} liked your post", "{{ who }} and {{ count }} other liked your post")
LIKED_QUOTED_TITLE = liked('{{ who }} liked "{{ content_title }}".',
                           '{{ who }} and {{ count }} other liked "{{ content_title }}".')
LIKED_QUOTED_POST = liked('{{ who }} liked "your post".', '{{ who }} and {{ count }} other liked "your post".')


def catalog(context: dict[str, Any]) -> NullTranslations:
    """The translations for texts a handler builds in Python (finalize_context), in the recipient's language
    (the context's `locale_plan`, rendering.locales; English without one)."""
    plan = context.get("locale_plan")
    return translations(plan.language if plan is not None else SOURCE_LANGUAGE)


def N_(message: str) -> str:
    """Marks a message for the catalogs (rendering.messages extracts it) without translating it here."""
    return message


#: Payload codes the built-in texts show (payment methods, failure reasons, 2FA methods, priorities), as English
#: shows them (formatting.humanize_code of the code): translated for other languages; any other code is shown
#: humanized, as it is in English.
KNOWN_CODES = frozenset({
    N_("credit card"), N_("debit card"), N_("bank transfer"), N_("paypal"), N_("sepa debit"),
    N_("insufficient funds"), N_("card declined"), N_("expired card"), N_("incorrect cvc"),
    N_("processing error"),
    N_("sms"), N_("email"), N_("in app"), N_("authenticator app"), N_("security key"),
    N_("low"), N_("normal"), N_("medium"), N_("high"), N_("urgent"),
})


def code_text(context: dict[str, Any], code: Any) -> str:
    """A payload code as the recipient reads it: 'insufficient_funds' -> 'insufficient funds' in English (as
    always), 'unzureichende Deckung' in German; a code the catalogs do not know stays humanized."""
    text = humanize_code(code)
    plan = context.get("locale_plan")
    if plan is None or plan.language == SOURCE_LANGUAGE or text.lower() not in KNOWN_CODES:
        return text
    return translations(plan.language).gettext(text.lower())
