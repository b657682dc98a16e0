"""The tenant's own types as producer contracts (events/contracts.py lists them after the handlers in code)."""

from __future__ import annotations

from collections.abc import Iterator

from notifications.events.base_handler import BaseEventHandler
from notifications.events.contracts import EXAMPLE_TENANT
from notifications.tenant_types.source import tenant_types

SOURCE = "tenant"


def tenant_type_source(tenant_id: str) -> Iterator[tuple[str, BaseEventHandler, str]]:
    """The tenant's active definitions, `"source": "tenant"`. A name a handler in code serves is listed by the
    first source (the handler wins; check_setup reports the clash). The example tenant has none (and the
    listing for it needs no database)."""
    if tenant_id == EXAMPLE_TENANT:
        return
    for handler in tenant_types.handlers_of(tenant_id):
        yield handler.definition.name, handler, SOURCE
