"""NOTIFICATIONS["HANDLERS"] (notifications/events/configured.py): the host project's handler classes, loaded by
NotificationsConfig.ready() in every process; each bad entry stops start-up with ImproperlyConfigured naming it;
loading twice is harmless; a handler registered at run time only is listed for check_setup."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from notifications.enums import Outcome
from notifications.events.configured import configured_entries, load_configured_handlers, runtime_only
from notifications.events.handlers import BUILTIN_HANDLERS, TaskAssignedHandler
from notifications.events.registry import CONFIGURED, RUNTIME, STARTUP, EventRegistry, event_registry
from tests.handlers_for_tests import InvoiceHandler, MockEventHandler, Outer

ROOT = Path(__file__).resolve().parents[2]
MODULE = "tests.handlers_for_tests"
MOCK = f"{MODULE}:MockEventHandler"
INVOICE = f"{MODULE}:InvoiceHandler"

TEST_EVENT = {
    "event_type": "test.event",
    "tenant_id": "acme",
    "timestamp": "2026-11-23T10:00:00",
    "payload": {"user_id": "u-9", "email": "mock@example.com"},
}


def started() -> EventRegistry:
    """A registry as NotificationsConfig.ready() leaves it before the configured handlers: the built-ins."""
    registry = EventRegistry()
    for cls in BUILTIN_HANDLERS:
        registry.register(cls(), origin=STARTUP)
    return registry


def with_handlers(settings: Any, entries: Any) -> None:
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "HANDLERS": entries}


@pytest.fixture
def app_registry() -> Iterator[EventRegistry]:
    """The app's own registry; whatever a test adds to it beyond the built-ins goes away after."""
    before = {id(handler) for handler in event_registry.handlers()}
    yield event_registry
    for handler in event_registry.handlers():
        if id(handler) not in before:
            event_registry.unregister_handler(handler)


# Loading

def test_the_setting_s_classes_are_registered_as_configured(settings):
    with_handlers(settings, [MOCK, INVOICE, f"{MODULE}:Outer.NestedHandler"])
    registry = started()

    loaded = load_configured_handlers(registry)

    assert [type(h) for h in loaded] == [MockEventHandler, InvoiceHandler, Outer.NestedHandler]
    assert type(registry.handler_for("test.event")) is MockEventHandler
    assert type(registry.handler_for("billing.invoice.issued")) is InvoiceHandler
    assert type(registry.handler_for("nested.event")) is Outer.NestedHandler
    assert {registry.origin_of(h) for h in loaded} == {CONFIGURED}
    assert type(registry.handler_for("task.assigned")) is TaskAssignedHandler  # the built-ins stay


def test_without_the_setting_nothing_is_loaded(settings):
    settings.NOTIFICATIONS = {k: v for k, v in settings.NOTIFICATIONS.items() if k != "HANDLERS"}
    registry = started()
    assert load_configured_handlers(registry) == []
    assert len(registry.handlers()) == len(BUILTIN_HANDLERS)


@pytest.mark.parametrize(("value", "expected"), [
    ([f" {MOCK} ", ""], [MOCK]),
    (f"{MOCK}, {INVOICE}", [MOCK, INVOICE]),  # one string, as the environment variable is written
    ((MOCK,), [MOCK]),
])
def test_the_setting_s_forms(settings, value, expected):
    with_handlers(settings, value)
    assert configured_entries() == expected


def test_loading_twice_or_listing_a_class_twice_is_harmless(settings):
    with_handlers(settings, [MOCK, INVOICE, MOCK])
    registry = started()
    first = load_configured_handlers(registry)
    again = load_configured_handlers(registry)

    assert [type(h) for h in first] == [MockEventHandler, InvoiceHandler]
    assert [id(h) for h in again] == [id(h) for h in first]  # the same instances, registered once
    assert len(registry.handlers()) == len(BUILTIN_HANDLERS) + 2


def test_a_class_registered_at_run_time_then_configured_is_kept_and_counted_as_configured(settings):
    registry = started()
    mine = registry.register(MockEventHandler(), origin=RUNTIME)
    with_handlers(settings, [MOCK])

    assert load_configured_handlers(registry) == [mine]
    assert registry.origin_of(mine) == CONFIGURED
    assert runtime_only(registry) == []


def test_ready_loads_them_in_the_app_registry_and_running_it_again_is_harmless(settings, app_registry):
    with_handlers(settings, [MOCK, INVOICE])
    config = apps.get_app_config("notifications")

    config.ready()
    mock = app_registry.handler_for("test.event")
    config.ready()

    assert type(mock) is MockEventHandler and app_registry.handler_for("test.event") is mock
    assert app_registry.origin_of(app_registry.handler_for("billing.invoice.issued")) == CONFIGURED
    assert len(app_registry.handlers()) == len(BUILTIN_HANDLERS) + 2


@pytest.mark.django_db
def test_a_configured_mock_handler_takes_events_in_and_they_are_delivered(settings, app_registry, tenant, deliver):
    with_handlers(settings, [MOCK])
    apps.get_app_config("notifications").ready()

    result = app_registry.process_event(TEST_EVENT)
    deliver()

    assert result.outcome == Outcome.PROCESSED
    [email] = mail.outbox
    assert (email.subject, email.body, email.to) == ("Test", "Test email", ["mock@example.com"])


# Bad entries: each one names the entry and what is wrong, and nothing is registered.

BAD = [
    ("tests.handlers_for_tests.MockEventHandler", 'expected "module.path:ClassName"'),
    (f"{MODULE}:", 'expected "module.path:ClassName"'),
    (":MockEventHandler", 'expected "module.path:ClassName"'),
    ("no_such_package.handlers:Handler", "module 'no_such_package.handlers' cannot be imported (no module named "
                                         "'no_such_package'); is it installed"),
    (f"{MODULE}:Missing", f"module '{MODULE}' has no attribute 'Missing'"),
    (f"{MODULE}:NotAHandler", "NotAHandler is class NotAHandler, not a subclass of "
                              "notifications.events.base_handler.BaseEventHandler"),
    (f"{MODULE}:not_a_class", "not_a_class is an instance of MockEventHandler; name the class itself"),
    (f"{MODULE}:ClashesWithBuiltin", "event type 'task.assigned' is already served by the built-in handler "
                                     "TaskAssignedHandler"),
    (f"{MODULE}:ClaimsEverything", "is already served by the built-in handler"),
    (f"{MODULE}:BrokenConstructor", "BrokenConstructor() failed: RuntimeError: needs a connection string"),
]


@pytest.mark.parametrize(("entry", "problem"), BAD, ids=[entry.rsplit(":", 1)[-1] or "empty" for entry, _ in BAD])
def test_a_bad_entry_names_itself_and_the_problem(settings, entry, problem):
    with_handlers(settings, [MOCK, entry])
    registry = started()

    with pytest.raises(ImproperlyConfigured) as raised:
        load_configured_handlers(registry)

    assert f"NOTIFICATIONS[\"HANDLERS\"] entry {entry!r}: " in str(raised.value)
    assert problem in str(raised.value)
    assert registry.get_handler("test.event") is None  # every entry is checked before any is registered


def test_two_configured_handlers_for_one_type_are_refused(settings):
    with_handlers(settings, [INVOICE, f"{MODULE}:AlsoInvoices"])
    with pytest.raises(ImproperlyConfigured, match=f"entry '{MODULE}:AlsoInvoices': event type "
                                                   f"'billing.invoice.issued' is also claimed by entry '{INVOICE}'"):
        load_configured_handlers(started())


def test_a_type_served_by_a_handler_registered_earlier_is_refused():
    registry = started()
    registry.register(MockEventHandler(), origin=RUNTIME)
    with pytest.raises(ImproperlyConfigured, match="'test.event' is already served by handler "
                                                   r"tests.handlers_for_tests:MockEventHandler \(registered runtime\)"):
        load_configured_handlers(registry, entries=[f"{MODULE}:AnotherTestEvent"])


@pytest.mark.parametrize("value", [42, {"a": 1}, [42]])
def test_a_setting_of_the_wrong_shape_is_refused(settings, value):
    with_handlers(settings, value)
    with pytest.raises(ImproperlyConfigured, match=r'NOTIFICATIONS\["HANDLERS"\]'):
        configured_entries()


@pytest.fixture
def host_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "host_raises.py").write_text("raise RuntimeError('DATABASE_URL is not set')\n")
    (tmp_path / "host_needs_dep.py").write_text("import no_such_dependency_for_handlers\n")
    return tmp_path


def test_a_module_that_raises_on_import_is_named(settings, host_modules):
    with_handlers(settings, ["host_raises:Handler"])
    with pytest.raises(ImproperlyConfigured, match="entry 'host_raises:Handler': importing module 'host_raises' "
                                                   "failed: RuntimeError: DATABASE_URL is not set") as raised:
        load_configured_handlers(started())
    assert isinstance(raised.value.__cause__, RuntimeError)  # its own traceback is kept under ours


def test_a_module_whose_dependency_is_missing_says_so(settings, host_modules):
    with_handlers(settings, ["host_needs_dep:Handler"])
    with pytest.raises(ImproperlyConfigured, match="importing module 'host_needs_dep' failed: ModuleNotFoundError: "
                                                   "No module named 'no_such_dependency_for_handlers'"):
        load_configured_handlers(started())


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **env}
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120)


def test_a_process_started_with_a_bad_entry_stops_with_the_entry_named():
    done = _manage("check", NOTIFICATIONS_HANDLERS=f"{MOCK},{MODULE}:ClashesWithBuiltin")
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: NOTIFICATIONS[\"HANDLERS\"] entry "
                           f"'{MODULE}:ClashesWithBuiltin': event type 'task.assigned' is already served")


def test_a_process_started_with_the_environment_variable_has_the_handlers():
    code = ("from notifications.events.registry import event_registry as r\n"
            "print(type(r.handler_for('test.event')).__name__, type(r.handler_for('billing.invoice.issued')).__name__,"
            " r.origin_of(r.handler_for('test.event')))")
    done = _manage("shell", "--no-imports", "-c", code, NOTIFICATIONS_HANDLERS=f"{MOCK}, {INVOICE}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["MockEventHandler", "InvoiceHandler", "configured"]


# What only this process has

def test_a_handler_registered_at_run_time_is_listed_with_its_types(settings):
    with_handlers(settings, [INVOICE])
    registry = started()
    load_configured_handlers(registry)
    by_type = registry.register(MockEventHandler(), event_types=["test.event"])  # apps are ready: run time

    [found] = runtime_only(registry)

    assert found.handler is by_type and found.event_types == ["test.event"]
    assert registry.origin_of(by_type) == RUNTIME
    assert "the delivery worker and the consumer will not know it" in found.warning
    assert f'NOTIFICATIONS["HANDLERS"] = ["{MOCK}"]' in found.warning


def test_a_can_handle_handler_is_listed_with_the_types_it_was_found_for():
    registry = started()
    handler = registry.register(MockEventHandler())
    [before] = runtime_only(registry)
    registry.get_handler("test.event")
    [after] = runtime_only(registry)

    assert before.event_types == [] and "the types its can_handle() accepts (none seen yet)" in before.warning
    assert after.handler is handler and after.event_types == ["test.event"]
    assert "for test.event is registered only in this process's memory" in after.warning


def test_built_ins_and_unregistered_handlers_are_not_listed():
    registry = started()
    handler = registry.register(MockEventHandler())
    registry.unregister_handler(handler)
    assert runtime_only(registry) == []
    assert registry.origin_of(handler) is None


# docs/events-and-templates.md, "Testing with your own handler": its test, run as written (the host's module
# being tests/handlers_for_tests.py).

def _docs_test() -> str:
    text = (ROOT / "docs" / "events-and-templates.md").read_text()
    section = text[text.index("## Testing with your own handler"):]
    blocks = [block.split("```", 1)[0] for block in section.split("```python\n")[1:]]
    [block] = [block for block in blocks if "def test_the_mock_event_is_delivered" in block]
    return block.replace("myapp.handlers", "tests.handlers_for_tests")


@pytest.mark.django_db
def test_the_docs_testing_example_runs_as_written(settings, app_registry):
    namespace: dict[str, Any] = {}
    exec(_docs_test(), namespace)  # noqa: S102 - the docs' own code
    namespace["test_the_mock_event_is_delivered"](settings, None)
    assert type(app_registry.handler_for("test.event")) is MockEventHandler


def test_the_docs_test_settings_module_lists_the_handler():
    text = (ROOT / "docs" / "events-and-templates.md").read_text()
    section = text[text.index("## Testing with your own handler"):]
    block = section.split("```python\n")[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(block.replace("myapp.handlers", "tests.handlers_for_tests"), namespace)  # noqa: S102 - the docs' code
    assert namespace["NOTIFICATIONS"]["HANDLERS"] == [MOCK]
    registry = started()
    load_configured_handlers(registry, entries=namespace["NOTIFICATIONS"]["HANDLERS"])
    assert type(registry.handler_for("test.event")) is MockEventHandler
