from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import mail

from notifications.channels.models import InAppMessage
from notifications.events.registry import event_registry
from notifications.testing import EXAMPLE_PAYLOADS


def sent_sms() -> list[dict[str, Any]]:
    return _outbox("sms")


def sent_push() -> list[dict[str, Any]]:
    return _outbox("push")


def _outbox(channel: str) -> list[dict[str, Any]]:
    path = Path(settings.NOTIFICATIONS["OUTBOX_DIR"]) / f"{channel}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def delivered_text(channel: str) -> str:
    """Everything delivered so far on a channel, as one text to search."""
    if channel == "email":
        return "\n".join(
            f"{m.subject}\n{m.body}\n" + "".join(str(a[0]) for a in getattr(m, "alternatives", []))
            for m in mail.outbox
        )
    if channel == "in_app":
        return "\n".join(f"{m.title}\n{m.body}\n{m.action_url}" for m in InAppMessage.objects.all())
    return "\n".join(json.dumps(item) for item in _outbox(channel))


def free_port() -> int:
    """A loopback TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def channels_of(event_type: str) -> set[str]:
    """The channels the registered handler picks for this type's example event: the handlers are the one copy."""
    handler = event_registry.handler_for(event_type)
    return {str(channel) for channel in handler.get_channels(event_type, EXAMPLE_PAYLOADS[event_type])}


def plan_of(call: Any) -> str:
    """PostgreSQL's plan (EXPLAIN, sequential scans off) of the one statement `call()` runs (the planner settings
    and savepoint around it, db/plans.py, left out)."""
    from django.db import connection

    statements: list[tuple[str, Any]] = []

    def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "set_config(" not in sql and "SAVEPOINT" not in sql:
            statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        call()
    [(sql, params)] = statements
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def error_detail(answer: Any) -> str:
    """A 4xx answer's detail as one text: the message, or each validation error as `loc: msg`."""
    detail = answer.json()["detail"]
    return detail if isinstance(detail, str) else " | ".join(
        f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in detail)


@contextmanager
def held_open(*statements: str, committed_first: tuple[str, ...] = ()) -> Iterator[None]:
    """PostgreSQL: another connection (a worker elsewhere) commits `committed_first`, then runs `statements` in
    a transaction it keeps open until the block ends."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    held, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def other() -> None:
        try:
            with psycopg.connect(**params) as conn:
                for sql in committed_first:
                    conn.execute(sql)
                    conn.commit()
                with conn.transaction():
                    for sql in statements:
                        conn.execute(sql)
                    held.set()
                    release.wait(30)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)
            held.set()

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert held.wait(10) and not errors, errors
        yield
    finally:
        release.set()
        thread.join(30)
