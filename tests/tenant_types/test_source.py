"""Loading tenant-defined types per batch: one query for the batch's unknown (tenant, type) pairs, none for
built-in traffic; compiled once per version; a new version seen on the next batch, in every thread."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.events.registry import event_registry
from notifications.intake.counting import TENANT_DEFINED
from notifications.observability import metrics
from notifications.tenant_types import service
from notifications.tenant_types.source import tenant_types
from tests.tenant_types.helpers import NAME, definition, event

pytestmark = pytest.mark.django_db


@pytest.fixture
def defined(tenant):
    body = definition()
    return service.create("acme", body.pop("name"), body)


def test_built_in_events_pay_no_query_for_tenant_types(tenant):
    event_registry.forget_tenant_types()
    with CaptureQueriesContext(connection) as queries:
        event_registry.prepare({("acme", "comment.mentioned"), ("acme", "user.login.failed")})

    assert len(queries) == 0


def test_one_query_per_batch_once_compiled_and_the_handler_is_reused(defined):
    event_registry.prepare({("acme", NAME)})
    first = event_registry.get_handler(NAME, "acme")

    with CaptureQueriesContext(connection) as queries:
        event_registry.prepare({("acme", NAME), ("acme", "no.such.type"), ("globex", NAME)})

    assert len(queries) == 1
    assert event_registry.get_handler(NAME, "acme") is first  # compiled once per version
    assert event_registry.get_handler(NAME, "globex") is None
    assert event_registry.get_handler("no.such.type", "acme") is None
    assert event_registry.get_handler(NAME) is None  # without a tenant, only handlers in code


def test_a_new_version_is_seen_on_the_next_batch(defined):
    event_registry.prepare({("acme", NAME)})
    assert event_registry.get_handler(NAME, "acme").definition.version == 1
    service.update("acme", NAME, {"channels": ["email"], "templates": {"email": definition()["templates"]["email"]}})

    event_registry.prepare({("acme", NAME)})

    handler = event_registry.get_handler(NAME, "acme")
    assert (handler.definition.version, handler.definition.channels) == (2, ("email",))


def test_each_thread_sees_what_its_own_batch_prepared(defined):
    event_registry.prepare({("acme", NAME)})
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(event_registry.get_handler(NAME, "acme")))
    thread.start()
    thread.join()

    assert seen == [None]  # another thread's batch prepares its own pairs (a batch never sees a half-loaded view)
    assert event_registry.get_handler(NAME, "acme") is not None


def test_an_intake_batch_forgets_what_earlier_batches_loaded(defined):
    event_registry.prepare({("acme", NAME)})
    service.deactivate("acme", NAME)

    result = event_registry.process_event(event())

    assert result.reason == "unsupported_event_type"
    assert event_registry.get_handler(NAME, "acme") is None
    assert event_registry.get_handler(NAME, "acme", inactive=True).definition.version == 2


def test_metrics_label_every_tenant_type_alike(defined):
    before = metrics.EVENTS.labels(TENANT_DEFINED, "processed")._value.get()

    assert event_registry.process_event(event()).ok

    assert metrics.EVENTS.labels(TENANT_DEFINED, "processed")._value.get() == before + 1


def test_compiled_definitions_can_be_cleared(defined):
    event_registry.prepare({("acme", NAME)})

    tenant_types.clear()

    assert event_registry.get_handler(NAME, "acme") is None


def test_a_type_deleted_and_defined_again_is_not_served_from_the_old_compiled_one(defined):
    event_registry.prepare({("acme", NAME)})
    old = event_registry.get_handler(NAME, "acme")
    defined.delete()  # the admin can delete a row; the new one starts at version 1 again
    body = definition(description="the second one")
    service.create("acme", body.pop("name"), body)

    event_registry.prepare({("acme", NAME)})

    new = event_registry.get_handler(NAME, "acme")
    assert new is not old and new.definition.description == "the second one"
    assert new.definition.version == old.definition.version == 1


def test_an_intake_batch_of_built_in_events_never_reads_the_definitions(defined):
    from notifications.testing import make_event

    with CaptureQueriesContext(connection) as queries:
        assert event_registry.process_event(make_event("comment.mentioned", "acme")).ok

    assert not [query for query in queries if "tenanteventtype" in query["sql"]]
