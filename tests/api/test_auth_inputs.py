"""Credentials are checked for what they can hold before any query: an inbox token naming "acme\\n" or a NUL,
or a user id with a NUL, and an API key whose prefix is not hex, answer 401 (never 500 on PostgreSQL, never
another tenant)."""

from __future__ import annotations

import pytest

from tests.fixtures import ApiClient, inbox_token

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("tenant_id,user_id", [("acme\n", "u-1"), ("ac\x00me", "u-1"), ("acme", "u\x00-1"),
                                               ("acme", "\ud800")])
def test_inbox_tokens_with_unstorable_or_trailing_ids_are_refused(tenant, inbox_settings, tenant_id, user_id):
    token = inbox_token(tenant_id, user_id)
    client = ApiClient(None)
    assert client.get("/inbox/unread-count", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert client.get("/inbox/unread-count", HTTP_AUTHORIZATION=f"Bearer {inbox_token()}").status_code == 200


@pytest.mark.parametrize("key", ["nsk_ab\x00cd_secret", "nsk_\ud800_secret", "nsk_ABCDEF_secret",
                                 "nsk_" + "a" * 17 + "_secret"])
def test_api_keys_with_impossible_prefixes_are_refused(tenant, key):
    assert ApiClient(None).get("/tenant", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
