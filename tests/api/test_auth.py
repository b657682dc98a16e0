from __future__ import annotations

import json

import jwt
import pytest
from django.core.management import call_command

from notifications.api.auth import verify_inbox_token
from notifications.api.models import ApiKey
from notifications.testing import make_event
from tests.fixtures import INBOX_SECRET, ApiClient, inbox_token

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


def test_api_key_is_shown_once_stored_hashed_and_revocable(tenant, capsys):
    call_command("create_api_key", "--tenant-id", tenant.id, "--name", "billing")
    key = capsys.readouterr().out.strip()
    stored = ApiKey.objects.get(name="billing")
    assert key.startswith(f"nsk_{stored.prefix}_") and key not in stored.key_hash and len(stored.key_hash) == 64
    client = ApiClient(key)
    assert client.get("/tenant").status_code == 200

    call_command("revoke_api_key", stored.prefix)
    assert client.get("/tenant").status_code == 401
    assert ApiClient(key[:-1] + "x").get("/tenant").status_code == 401


def test_bearer_header_also_works(api_a):
    key = api_a.headers["HTTP_X_API_KEY"]
    client = ApiClient(None)
    assert client.get("/tenant", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200


def test_unauthenticated_calls_are_refused(db):
    anonymous = ApiClient(None)
    for path in ("/templates", "/records", "/stats", "/tenant", "/contacts/u-1", "/inbox/messages"):
        assert anonymous.get(path).status_code == 401, path
    assert anonymous.post("/events", make_event("task.assigned")).status_code == 401
