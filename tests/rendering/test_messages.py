"""notifications/rendering/messages.py: the catalogs hold a translation of every message of the built-in texts,
with the same placeholders; `manage.py notification_messages check` says what is missing."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from notifications.i18n import LANGUAGES
from notifications.rendering import messages


@pytest.fixture(scope="module")
def template():
    return messages.extract()


def test_every_built_in_text_is_a_message(template):
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    assert "Hi %(name)s," in ids and "Someone" in ids and "%(count)s new like" in ids
    assert len(ids) > 100


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_each_catalog_translates_every_message_with_its_placeholders(language, template):
    assert not messages.check(language, template)


def test_check_names_a_message_missing_from_a_catalog(template):
    template.add("A sentence nobody translated")
    problems = messages.check("de", template)
    assert problems.missing == ["A sentence nobody translated"]


def test_the_command_checks_every_catalog(capsys):
    call_command("notification_messages", "check")
    assert "catalogs complete" in capsys.readouterr().out


def test_the_command_fails_on_an_incomplete_catalog(monkeypatch):
    monkeypatch.setattr(messages, "check", lambda language, template=None: messages.Problems(missing=["x"]))
    with pytest.raises(CommandError, match="notification_messages extract"):
        call_command("notification_messages", "check")
