"""Handlers from the host project, loaded in every process: `NOTIFICATIONS["HANDLERS"] = ["myapp.handlers:Invoice"]`
(or the environment variable NOTIFICATIONS_HANDLERS, comma-separated). NotificationsConfig.ready() calls
load_configured_handlers() after registering the built-ins, so the consumer, the delivery worker, the API, `serve`
and every management command know the same handlers.

A bad entry stops start-up with ImproperlyConfigured naming the entry: no colon, a module that cannot be imported,
a name that is not a BaseEventHandler subclass, a handler that cannot be made, an event type that a built-in or
another handler already serves. Nothing is registered unless every entry is sound. Loading twice (a test running
ready() again, a class listed twice) registers each class once.

A handler registered later in one process only (a Django shell, as the guide's "Mock Event Testing" does) is what
runtime_only() lists: check_setup warns about it, since the delivery worker and the consumer will not know it."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from notifications.conf import get_setting
from notifications.events.base_handler import BaseEventHandler
from notifications.events.registry import CONFIGURED, HANDLERS_HINT, RUNTIME, EventRegistry, event_registry

SETTING = 'NOTIFICATIONS["HANDLERS"]'


@dataclass(frozen=True)
class Entry:
    text: str  # as written in the settings
    cls: type[BaseEventHandler]

    @property
    def name(self) -> str:
        return f"{self.cls.__name__} ({self.text})"


def configured_entries() -> list[str]:
    """The HANDLERS setting as a list of "module:Class" strings (a single string is split on commas)."""
    value = get_setting("HANDLERS", [])
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise ImproperlyConfigured(f'{SETTING} must be a list of "module:Class" strings, not {type(value).__name__}')
    for item in value:
        if not isinstance(item, str):
            raise ImproperlyConfigured(f'{SETTING} entry {item!r}: not a "module:Class" string')
    return [item.strip() for item in value if item.strip()]


def class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _bad(entry: str, problem: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{SETTING} entry {entry!r}: {problem}")


def import_entry(entry: str) -> type[BaseEventHandler]:
    """The handler class an entry names, or ImproperlyConfigured saying what is wrong with it."""
    module_name, colon, attribute = entry.partition(":")
    module_name, attribute = module_name.strip(), attribute.strip()
    if not colon or not module_name or not attribute or ":" in attribute:
        raise _bad(entry, 'expected "module.path:ClassName", e.g. "myapp.handlers:InvoiceHandler"')
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name is not None and (module_name == err.name or module_name.startswith(f"{err.name}.")):
            raise _bad(entry, f"module {module_name!r} cannot be imported (no module named {err.name!r}); "
                              "is it installed and on the Python path?") from None
        raise _bad(entry, f"importing module {module_name!r} failed: {type(err).__name__}: {err}") from err
    except Exception as err:  # the host's module raised while it was imported: say which entry
        raise _bad(entry, f"importing module {module_name!r} failed: {type(err).__name__}: {err}") from err
    found: object = module
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise _bad(entry, f"module {module_name!r} has no attribute {attribute!r}")
        found = getattr(found, part)
    if isinstance(found, BaseEventHandler):
        raise _bad(entry, f"{attribute} is an instance of {type(found).__name__}; name the class itself")
    if not isinstance(found, type) or not issubclass(found, BaseEventHandler):
        what = f"class {found.__name__}" if isinstance(found, type) else f"a {type(found).__name__}"
        raise _bad(entry, f"{attribute} is {what}, not a subclass of "
                          "notifications.events.base_handler.BaseEventHandler")
    return found


def _make(entry: Entry) -> BaseEventHandler:
    try:
        return entry.cls()
    except Exception as err:  # the host's constructor: say which entry
        raise _bad(entry.text, f"{entry.cls.__name__}() failed: {type(err).__name__}: {err}") from err


def _claims(entry: Entry, handler: BaseEventHandler, event_type: str) -> bool:
    try:
        return bool(handler.can_handle(event_type))
    except Exception as err:  # the host's can_handle: say which entry
        raise _bad(entry.text, f"{entry.cls.__name__}.can_handle({event_type!r}) raised "
                               f"{type(err).__name__}: {err}") from err


def _owner(registry: EventRegistry, current: BaseEventHandler) -> str:
    from notifications.events.handlers import BUILTIN_HANDLERS

    if type(current) in BUILTIN_HANDLERS:
        return f"the built-in handler {type(current).__name__}"
    return f"handler {class_path(type(current))} (registered {registry.origin_of(current) or 'earlier'})"


def _check_types(entry: Entry, handler: BaseEventHandler, registry: EventRegistry,
                 taken: dict[str, Entry]) -> None:
    """Refuse an event type that a handler of another class serves, or another configured entry claims."""
    declared = tuple(handler.event_types)
    known = sorted({*registry.event_types, *taken})
    types = declared or [t for t in known if _claims(entry, handler, t)]
    for event_type in types:
        if declared and not _claims(entry, handler, event_type):
            raise _bad(entry.text, f"{entry.cls.__name__}.can_handle({event_type!r}) is False for a type in its "
                                   "own event_types")
        other = taken.get(event_type)
        if other is not None and other.cls is not entry.cls:
            raise _bad(entry.text, f"event type {event_type!r} is also claimed by entry {other.text!r}; "
                                   "one handler per event type")
        current = registry.get_handler(event_type)
        if current is not None and type(current) is not entry.cls:
            raise _bad(entry.text, f"event type {event_type!r} is already served by {_owner(registry, current)}"
                                   "; one handler per event type (a built-in's text is changed with tenant "
                                   "templates, not with a second handler)")
        taken[event_type] = entry


def _registered_instance(registry: EventRegistry, cls: type[BaseEventHandler]) -> BaseEventHandler | None:
    return next((handler for handler in registry.handlers() if type(handler) is cls), None)


def load_configured_handlers(registry: EventRegistry = event_registry,
                             entries: list[str] | None = None) -> list[BaseEventHandler]:
    """Register the handler classes the HANDLERS setting names (or `entries`) in `registry`; returns the handler
    of each class, in order. A class already registered (loaded before, or registered at run time) is kept
    as it is and counted as configured. Every entry is checked before any is registered."""
    texts = configured_entries() if entries is None else entries
    loaded: list[Entry] = []
    for text in texts:
        cls = import_entry(text)
        if all(entry.cls is not cls for entry in loaded):
            loaded.append(Entry(text, cls))
    taken: dict[str, Entry] = {}
    pending: list[tuple[Entry, BaseEventHandler]] = []
    for entry in loaded:
        if _registered_instance(registry, entry.cls) is not None:
            continue
        handler = _make(entry)
        _check_types(entry, handler, registry, taken)
        pending.append((entry, handler))
    for entry, handler in pending:
        try:
            registry.register(handler, origin=CONFIGURED)
        except Exception as err:  # the registry's own refusal, said for this entry
            raise _bad(entry.text, f"{type(err).__name__}: {err}") from err
    handlers = []
    for entry in loaded:
        found = _registered_instance(registry, entry.cls)
        if found is not None:  # always: registered above, or before
            registry.mark(found, CONFIGURED)
            handlers.append(found)
    return handlers


@dataclass(frozen=True)
class RuntimeOnly:
    """A handler registered in this process's memory only: no other process has it."""

    handler: BaseEventHandler
    event_types: list[str]

    @property
    def warning(self) -> str:
        name = class_path(type(self.handler))
        types = (", ".join(self.event_types) if self.event_types
                 else "the types its can_handle() accepts (none seen yet)")
        return (f"handler {name} for {types} is registered only in this process's memory (at run time, not in "
                f"{SETTING}): the delivery worker and the consumer will not know it, and their records of these "
                f'types fail with no_handler; {HANDLERS_HINT}, e.g. {SETTING} = ["{name}"]')


def _configured_classes() -> set[type]:
    classes: set[type] = set()
    try:
        for text in configured_entries():
            classes.add(import_entry(text))
    except ImproperlyConfigured:
        pass  # start-up refused it already; whatever loaded before the bad entry counts
    return classes


def configured_handlers(registry: EventRegistry = event_registry) -> list[BaseEventHandler]:
    """Registered handlers that every process has through the HANDLERS setting."""
    classes = _configured_classes()
    return [handler for handler in registry.handlers()
            if registry.origin_of(handler) == CONFIGURED or type(handler) in classes]


def runtime_only(registry: EventRegistry = event_registry) -> list[RuntimeOnly]:
    """Handlers registered after start-up in this process and not named in the HANDLERS setting."""
    classes = _configured_classes()
    return [RuntimeOnly(handler, registry.types_of(handler)) for handler in registry.handlers()
            if registry.origin_of(handler) == RUNTIME and type(handler) not in classes]
