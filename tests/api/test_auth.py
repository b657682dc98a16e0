from __future__ import annotations

import json

import jwt
import pytest
from django.core.management import call_command

from notifications.api.auth import verify_inbox_token
from tests.fixtures import INBOX_SECRET, inbox_token

pytestmark = pytest.mark.django_db


def test_a_tenant_with_its_own_inbox_key_refuses_tokens_signed_with_others(tenant, settings, capsys):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "INBOX_JWT_SECRET": INBOX_SECRET, "INBOX_DEMO": False}
    call_command("set_inbox_key", "--tenant-id", "acme", "--generate")
    own = capsys.readouterr().out.strip()

    assert verify_inbox_token(inbox_token("acme", secret=INBOX_SECRET)) is None  # the shared key no longer works
    user = verify_inbox_token(inbox_token("acme", secret=own))
    assert (user.tenant_id, user.user_id) == ("acme", "u-1")
    assert verify_inbox_token(inbox_token("other", secret=INBOX_SECRET)) is not None  # no own key: shared one
    unsigned = jwt.encode({"sub": "u-1", "tenant_id": "acme", "exp": 9_999_999_999}, None, algorithm="none")
    assert verify_inbox_token(unsigned) is None
    assert "secret_encrypted" not in json.dumps(tenant.__class__.objects.get(id="acme").settings).replace(
        "secret_encrypted", "") and own not in json.dumps(tenant.__class__.objects.get(id="acme").settings)
