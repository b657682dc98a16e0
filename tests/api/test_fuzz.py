"""Property-based fuzzing of the API from its own OpenAPI spec (schemathesis): no input gives a 500, and
nothing answers without credentials."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from notification_service.wsgi import application
from notifications.api.models import ApiKey
from notifications.tenants.models import Tenant
from tests.fixtures import INBOX_SECRET, inbox_token


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Requests go through the real WSGI handler, whose request signals close 'old' connections; inside a
    test transaction that would close the test's own. Django's test client disconnects them the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(db, _keep_test_connection):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


schema = schemathesis.pytest.from_fixture("api_schema")
# The stream never ends by design; its auth is fuzzed by the unauthenticated run below.
authenticated_schema = schemathesis.pytest.from_fixture("api_schema").exclude(path_regex="/inbox/stream")

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def credentials(db, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "INBOX_JWT_SECRET": INBOX_SECRET}
    Tenant.objects.get_or_create(id="fuzz", defaults={"name": "Fuzz"})
    _, key = ApiKey.issue("fuzz")
    return {"X-API-Key": key, "Authorization": f"Bearer {inbox_token('fuzz', 'fuzz-user')}"}


@pytest.mark.slow
@pytest.mark.django_db
@authenticated_schema.parametrize()
@FUZZ
def test_no_input_makes_the_api_fail(case, credentials):
    case.call_and_validate(headers=credentials, checks=[not_a_server_error])


def refuses_without_credentials(ctx, response, case):
    # 405 answers schemathesis's probes with methods the path does not have (TRACE...): nothing is served.
    allowed = {401, 405} if case.method.upper() != case.operation.method.upper() else {401}
    # A path parameter that is not an id does not route at all: Django's own 404 page, before any view.
    unrouted = response.status_code == 404 and "application/json" not in response.headers.get("content-type", [""])[0]
    if response.status_code not in allowed and not unrouted:
        raise AssertionError(f"{case.method} {case.path} answered {response.status_code} without credentials")


@pytest.mark.slow
@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_nothing_answers_without_credentials(case):
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in ("authorization", "x-api-key")}
    if isinstance(case.query, dict):
        case.query = {k: v for k, v in case.query.items() if k != "token"}
    case.call_and_validate(checks=[refuses_without_credentials])
