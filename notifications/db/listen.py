"""A PostgreSQL connection of its own that LISTENs, for NOTIFY-driven wake-ups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection

if TYPE_CHECKING:
    import psycopg


def listening_connection(channel: str) -> psycopg.Connection[Any]:
    """A connection of its own (autocommit) on the default PostgreSQL database, LISTENing on `channel`: Django's
    connections are per thread and in transactions, where notifications are not delivered."""
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    conn = psycopg.connect(**params, autocommit=True)
    conn.execute(f"LISTEN {channel}")
    return conn
