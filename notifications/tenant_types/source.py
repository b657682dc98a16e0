"""The registry's source of tenant-defined types in one process (events.registry.TenantTypeSource).

Two layers:
- compiled handlers, one per (tenant, name, version, tenant's default locale), shared by the process's threads
  and kept up to MAX_COMPILED (least recently used dropped): a schema and its templates are compiled once per
  version, not per batch;
- each thread's batch view: the (tenant, name) pairs its current batch met, each with the handler of the
  version the database held when the batch prepared them. A batch's `prepare` asks the database which version
  is current (one query; a second one only for definitions this process has not compiled yet), so a new version
  is used by every process (consumer, worker, API) from its next batch on, without a restart or a signal."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.db.models import Q

from notifications.rendering.engine import cache as template_cache
from notifications.tenant_types.handler import Definition, TenantTypeHandler
from notifications.tenant_types.models import TenantEventType

MAX_COMPILED = 2_048
#: A thread's view is cleared when it grows past this (a long-lived thread that never forgets).
MAX_VIEW = 10_000

#: (tenant id, name, (row id, version), tenant's default locale)
CompiledKey = tuple[str, str, tuple[int, int], str]


def definition_of(row: TenantEventType) -> Definition:
    return Definition(
        tenant_id=row.tenant_id, name=row.name, version=row.version, payload_schema=row.payload_schema,
        channels=tuple(row.channels), templates=row.templates, example=row.example, is_active=row.is_active,
        description=row.description, row_id=row.pk,
    )


class TenantTypes:
    def __init__(self) -> None:
        self._compiled: OrderedDict[CompiledKey, TenantTypeHandler] = OrderedDict()
        self._lock = threading.Lock()
        self._local = threading.local()

    def _view(self) -> dict[tuple[str, str], TenantTypeHandler | None]:
        view: dict[tuple[str, str], TenantTypeHandler | None] | None = getattr(self._local, "view", None)
        if view is None or len(view) > MAX_VIEW:
            view = self._local.view = {}
        return view

    def forget(self) -> None:
        self._local.view = {}

    def prepare(self, pairs: set[tuple[str, str]]) -> None:
        """Load the current versions of these (tenant, name) pairs into this thread's view; a pair without a
        definition is noted as unknown."""
        if not pairs:
            return
        view = self._view()
        wanted = _matching(pairs)
        current = {(tenant_id, name): ((pk, version), _locale_text(locale)) for pk, tenant_id, name, version, locale
                   in TenantEventType.objects.filter(wanted).values_list(
                       "pk", "tenant_id", "name", "version", "tenant__settings__default_locale")}
        for pair in pairs:
            view[pair] = None
        missing: dict[tuple[str, str], str] = {}
        for (tenant_id, name), (version, locale) in current.items():
            handler = self._cached((tenant_id, name, version, locale))
            if handler is None:
                missing[(tenant_id, name)] = locale
            else:
                view[(tenant_id, name)] = handler
        if missing:
            for row in TenantEventType.objects.filter(_matching(set(missing))):
                view[(row.tenant_id, row.name)] = self._compile(definition_of(row), missing[(row.tenant_id,
                                                                                             row.name)])

    def get(self, tenant_id: str, event_type: str, *, inactive: bool = False) -> TenantTypeHandler | None:
        handler = self._view().get((tenant_id, event_type))
        if handler is None or not (handler.active or inactive):
            return None
        return handler

    def handlers_of(self, tenant_id: str) -> list[TenantTypeHandler]:
        """Every active definition of the tenant, compiled (cached by version): its producer contracts."""
        rows = TenantEventType.objects.filter(tenant_id=tenant_id, is_active=True).select_related("tenant")
        found = []
        for row in rows:
            locale = _locale_text(row.tenant.settings.get("default_locale"))
            key = (row.tenant_id, row.name, (row.pk, row.version), locale)
            found.append(self._cached(key) or self._compile(definition_of(row), locale))
        return found

    def names(self, tenant_id: str) -> list[str]:
        return list(TenantEventType.objects.filter(tenant_id=tenant_id, is_active=True).values_list("name",
                                                                                                    flat=True))

    def _cached(self, key: CompiledKey) -> TenantTypeHandler | None:
        with self._lock:
            handler = self._compiled.get(key)
            if handler is not None:
                self._compiled.move_to_end(key)
            return handler

    def _compile(self, definition: Definition, locale: str) -> TenantTypeHandler:
        handler = TenantTypeHandler(definition, locale or None)
        key = (definition.tenant_id, definition.name, (definition.row_id, definition.version), locale)
        with self._lock:
            older = [k for k in self._compiled if k[:2] == key[:2] and k[2] != key[2]]
            for old in older:
                del self._compiled[old]
            self._compiled[key] = handler
            while len(self._compiled) > MAX_COMPILED:
                self._compiled.popitem(last=False)
        if older:  # the templates compiled for the versions this one replaces
            prefix = ("tenant-type", definition.tenant_id, definition.name)
            template_cache.invalidate(
                lambda k: isinstance(k, tuple) and k[:3] == prefix and k[3] != key[2])
        return handler

    def clear(self) -> None:
        """Forget every compiled definition (tests)."""
        with self._lock:
            self._compiled.clear()
        self.forget()


def _matching(pairs: set[tuple[str, str]]) -> Q:
    """Rows of these (tenant, name) pairs: by tenant ids and names, which the pairs then narrow down."""
    query = Q()
    for tenant_id in {tenant_id for tenant_id, _ in pairs}:
        query |= Q(tenant_id=tenant_id, name__in=sorted({name for t, name in pairs if t == tenant_id}))
    return query


def _locale_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


tenant_types = TenantTypes()
