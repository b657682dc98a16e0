from __future__ import annotations

import json
import logging

import pytest

from notifications.observability.logging import JsonFormatter
from notifications.security import RedactingFilter

pytestmark = pytest.mark.django_db


def test_json_logs_carry_ids_and_no_secrets():
    formatter = JsonFormatter()
    record = logging.LogRecord("x", logging.INFO, __file__, 1,
                               "delivery failed: tenant_id=%s record_id=%s reset_token=%s", ("acme", 7, "tok-1234"),
                               None)
    RedactingFilter().filter(record)
    line = json.loads(formatter.format(record))
    assert (line["tenant_id"], line["record_id"], line["level"]) == ("acme", "7", "INFO")
    assert "tok-1234" not in json.dumps(line)
