"""JSON log lines (LOG_FORMAT=json): one object per line with the message, level, logger, time, and the ids
that log calls put in their message (tenant_id=..., event_id=..., record_id=...) as fields. The redaction filter
runs before this formatter, so secrets are already masked."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

_FIELD = re.compile(r"\b(tenant_id|event_id|record_id|event_type|channel|provider|user_id|error_code)=([^\s,;]+)")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        entry.update({key: value for key, value in _FIELD.findall(message) if value != "-"})
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
