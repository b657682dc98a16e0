"""The event registry: event type -> handler, and the guide's `event_registry.process_event(event)`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from django.apps import apps

from notifications.errors import (
    HandlerAlreadyRegistered,
    HandlerNotFound,
    NotificationConfigurationError,
    RegistryNotBound,
)
from notifications.events.base_handler import BaseEventHandler
from notifications.security.redaction import SENSITIVE_KEYS

if TYPE_CHECKING:
    from notifications.intake.results import IntakeResult

#: What every process should be told about a handler it lacks (the worker's failed record, check_setup's warning).
HANDLERS_HINT = ('list it in NOTIFICATIONS["HANDLERS"] = ["module:Class"] (environment: NOTIFICATIONS_HANDLERS) '
                 'so that every process loads it at start-up')

#: How a handler came to be registered (EventRegistry.origin_of): before Django's apps were ready (the built-ins,
#: an app's ready(): every process has it), from NOTIFICATIONS["HANDLERS"], or later in this process only.
STARTUP, CONFIGURED, RUNTIME = "startup", "configured", "runtime"

#: Takes in a list of events now, one result each: intake's process_events, bound by NotificationsConfig.ready().
Processor = Callable[..., "list[IntakeResult]"]


class TenantTypeSource(Protocol):
    """Where the registry finds tenant-defined event types (notifications/tenant_types), bound by
    NotificationsConfig.ready(). What it answers is what this thread's latest `prepare` loaded: each batch (an
    intake batch, a worker's claimed records, an API request) prepares the pairs it meets, in one query."""

    def prepare(self, pairs: set[tuple[str, str]]) -> None: ...

    def forget(self) -> None: ...

    def get(self, tenant_id: str, event_type: str, *, inactive: bool = False) -> BaseEventHandler | None: ...

    def names(self, tenant_id: str) -> list[str]: ...


class EventRegistry:
    def __init__(self) -> None:
        self._by_type: dict[str, BaseEventHandler] = {}
        self._fallbacks: list[BaseEventHandler] = []
        self._lock = threading.Lock()
        self._processor: Processor | None = None
        # id(handler) -> (handler, origin); the handler is kept so that its id cannot be reused while listed.
        self._origins: dict[int, tuple[BaseEventHandler, str]] = {}
        # id(fallback handler) -> the event types it was found for so far (check_setup names them).
        self._seen: dict[int, set[str]] = {}
        self._tenant_types: TenantTypeSource | None = None

    def bind_tenant_types(self, source: TenantTypeSource | None) -> None:
        """The source of tenant-defined types; None unbinds it (the registry then knows only handlers)."""
        self._tenant_types = source

    def prepare(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Load the tenant-defined types among (tenant id, event type) `pairs` for this thread's batch, in one
        query: only the types no handler serves are asked for, so built-in traffic pays nothing."""
        if self._tenant_types is None:
            return
        unknown = {(tenant_id, event_type) for tenant_id, event_type in pairs
                   if tenant_id and self._handler_in_code(event_type) is None}
        if unknown:
            self._tenant_types.prepare(unknown)

    def forget_tenant_types(self) -> None:
        """Drop what this thread's earlier batches loaded: a batch that prepares afresh sees current versions."""
        if self._tenant_types is not None:
            self._tenant_types.forget()

    def bind(self, processor: Processor) -> None:
        """What process_event(s) hands events to: `processor(events, source=...)`. The registry sits below intake
        and imports none of it; NotificationsConfig.ready() binds intake's process_events here."""
        self._processor = processor

    @property
    def processor(self) -> Processor:
        if self._processor is None:
            raise RegistryNotBound(
                "event_registry has no intake bound (NotificationsConfig.ready() binds it): set Django up first "
                "(django.setup()), or bind one with event_registry.bind(process_events)")
        return self._processor

    def register(
        self, handler: BaseEventHandler, event_types: Iterable[str] | None = None, *, replace: bool = False,
        origin: str | None = None,
    ) -> BaseEventHandler:
        """Map event types to handler. Types come from `event_types=` or the handler's own `event_types`; a
        handler with neither is consulted through `can_handle` for types no other handler claims. `origin`
        (STARTUP, CONFIGURED, RUNTIME) defaults to STARTUP while Django's apps are being set up, else RUNTIME."""
        if not isinstance(handler, BaseEventHandler):
            raise NotificationConfigurationError(
                f"{handler!r} is not a BaseEventHandler instance (register MyHandler(), not MyHandler)"
            )
        types = tuple(event_types) if event_types is not None else tuple(handler.event_types)
        with self._lock:
            origin = origin or (RUNTIME if apps.ready else STARTUP)
            if not types:
                self._register_fallback(handler, replace)
                self._origins.setdefault(id(handler), (handler, origin))
                self._forget_unused()
                return handler
            for event_type in types:
                if not handler.can_handle(event_type):
                    raise NotificationConfigurationError(
                        f"{type(handler).__name__}.can_handle({event_type!r}) is False; it cannot serve that type"
                    )
                current = self._by_type.get(event_type)
                if current is not None and current is not handler and not replace:
                    raise HandlerAlreadyRegistered(
                        f"event type {event_type!r} already has handler {type(current).__name__}; "
                        "pass replace=True to replace it"
                    )
            for event_type in types:
                self._by_type[event_type] = handler
            self._origins.setdefault(id(handler), (handler, origin))
            self._forget_unused()
        return handler

    def _register_fallback(self, handler: BaseEventHandler, replace: bool) -> BaseEventHandler:
        """A handler known only by can_handle(): it may not claim a type another handler serves."""
        claimed = [event_type for event_type in self._by_type if handler.can_handle(event_type)]
        rivals = [h for h in self._fallbacks if h is handler or type(h) is type(handler)]
        if (claimed or rivals) and not replace:
            what = f"event type(s) {', '.join(sorted(claimed))}" if claimed else f"{type(handler).__name__}"
            raise HandlerAlreadyRegistered(
                f"{what} already has a handler; pass replace=True to replace it"
            )
        for event_type in claimed:
            del self._by_type[event_type]
        self._fallbacks = [h for h in self._fallbacks if h not in rivals]
        self._fallbacks.append(handler)
        return handler

    def unregister(self, event_type: str) -> None:
        with self._lock:
            if self._by_type.pop(event_type, None) is None:
                raise HandlerNotFound("no handler registered", event_type=event_type)
            self._forget_unused()

    def unregister_handler(self, handler: BaseEventHandler) -> None:
        with self._lock:
            self._by_type = {k: v for k, v in self._by_type.items() if v is not handler}
            self._fallbacks = [h for h in self._fallbacks if h is not handler]
            self._forget_unused()

    def _forget_unused(self) -> None:
        """Origins and seen types of handlers no longer registered (under the lock)."""
        listed = {id(handler) for handler in [*self._by_type.values(), *self._fallbacks]}
        for key in [key for key in list(self._origins) if key not in listed]:
            del self._origins[key]
        for key in [key for key in list(self._seen) if key not in listed]:  # get_handler adds without the lock
            self._seen.pop(key, None)

    def origin_of(self, handler: BaseEventHandler) -> str | None:
        """STARTUP, CONFIGURED or RUNTIME for a registered handler; None for one that is not."""
        entry = self._origins.get(id(handler))
        return entry[1] if entry is not None and entry[0] is handler else None

    def mark(self, handler: BaseEventHandler, origin: str) -> None:
        """Set a registered handler's origin (a handler registered at run time, then found in the settings)."""
        with self._lock:
            if id(handler) in self._origins:
                self._origins[id(handler)] = (handler, origin)

    def types_of(self, handler: BaseEventHandler) -> list[str]:
        """The event types this handler serves: those mapped to it, and for a handler known by can_handle()
        only, the types it was found for so far."""
        return sorted({t for t, h in self._by_type.items() if h is handler} | self._seen.get(id(handler), set()))

    def get_handler(self, event_type: str, tenant_id: str | None = None, *,
                    inactive: bool = False) -> BaseEventHandler | None:
        """The handler in code for this type, else (given `tenant_id`) the tenant's own definition of it as
        prepared for this batch; `inactive`: a deactivated definition too (its records are still delivered)."""
        handler = self._handler_in_code(event_type)
        if handler is None and tenant_id and self._tenant_types is not None:
            return self._tenant_types.get(tenant_id, event_type, inactive=inactive)
        return handler

    def _handler_in_code(self, event_type: str) -> BaseEventHandler | None:
        handler = self._by_type.get(event_type)
        if handler is not None:
            return handler
        for fallback in self._fallbacks:
            if fallback.can_handle(event_type):
                seen = self._seen.setdefault(id(fallback), set())
                if event_type not in seen and len(seen) < 100:
                    seen.add(event_type)
                return fallback
        return None

    def handler_for(self, event_type: str, tenant_id: str | None = None) -> BaseEventHandler:
        """The handler of a stored event or record (a deactivated tenant type's too); raises HandlerNotFound."""
        handler = self.get_handler(event_type, tenant_id, inactive=True)
        if handler is None:
            raise HandlerNotFound(f"no handler registered for this event type in this process; {HANDLERS_HINT}",
                                  event_type=event_type)
        return handler

    @property
    def event_types(self) -> list[str]:
        return sorted(self._by_type)

    def handlers(self) -> list[BaseEventHandler]:
        """Every registered handler once, fallback handlers included."""
        unique = {id(handler): handler for handler in [*self._by_type.values(), *self._fallbacks]}
        return list(unique.values())

    def sensitive_field_names(self) -> set[str]:
        """Every field name any registered handler seals, fallback handlers included."""
        names: set[str] = set()
        for handler in self.handlers():
            names |= handler.sensitive_fields
        return names

    def redacted_keys(self) -> frozenset[str]:
        """The keys masked wherever an event is shown or copied (stored rejections, dead letters): the common
        sensitive names and every field a registered handler seals, lower-cased."""
        return SENSITIVE_KEYS | frozenset(name.lower() for name in self.sensitive_field_names())

    def handler_for_template_name(self, name: str, tenant_id: str | None = None,
                                  ) -> tuple[str, BaseEventHandler] | None:
        """('user.registration.completed', handler) for 'user_registration_completed_email'; given `tenant_id`,
        the tenant's own active types are looked at after the handlers (and prepared)."""
        from notifications.enums import Channel
        from notifications.events.naming import template_name

        for event_type, handler in self._by_type.items():
            for channel in Channel.known():
                if template_name(event_type, channel) == name:
                    return event_type, handler
        if not tenant_id or self._tenant_types is None:
            return None
        for event_type in self._tenant_types.names(tenant_id):
            if any(template_name(event_type, channel) == name for channel in Channel.known()):
                self.prepare([(tenant_id, event_type)])
                found = self.get_handler(event_type, tenant_id)
                return (event_type, found) if found is not None else None
        return None

    def process_event(self, event: Any, *, source: str = "local") -> IntakeResult:
        """Validate and take in one event now (synchronously); returns a printable result. Raises
        RegistryNotBound if no intake is bound (Django not set up)."""
        return self.processor([event], source=source)[0]

    def process_events(self, events: Iterable[Any], *, source: str = "local") -> list[IntakeResult]:
        return self.processor(list(events), source=source)


event_registry = EventRegistry()
