"""In-app rendering at intake (notifications/intake/inapp.py): whatever rendering one in-app record raises
fails that record with render_error; the event's e-mail and push records, and the batch's other events, go on."""

from __future__ import annotations

import pytest

from notifications.channels.models import InAppMessage
from notifications.enums import Outcome
from notifications.intake.service import process_events
from notifications.models import NotificationRecord, NotificationTemplate
from tests.intake.hostile import SECRET_IN_ERROR, good_event, hostile_event, hostile_handler

pytestmark = pytest.mark.django_db

RECURSING_MACRO = "{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}"
NESTED_LOOPS = "{% for a in range(100000) %}{% for b in range(100000) %}{{ a * b }}{% endfor %}{% endfor %}"


def _statuses(result) -> dict[str, tuple[str, str]]:
    return {record.channel: (record.status, record.reason) for record in result.records}


@pytest.mark.parametrize("source", ["{{ 1/0 }}", "{{ nothing.there() }}", "{{ task_title.__class__.__mro__ }}",
                                    RECURSING_MACRO, NESTED_LOOPS])
def test_a_tenant_in_app_template_that_raises_fails_only_the_in_app_record(tenant, source):
    NotificationTemplate.objects.bulk_create([NotificationTemplate(  # stored directly: no save-time checks
        tenant_id=tenant.id, name="task_assigned_in_app", channel="in_app",
        content={"title": "Task", "body": source, "action_url": ""}, placeholders=[],
    )])

    [result, other] = process_events([good_event(1), good_event(2, tenant_id="globex")])

    assert result.outcome == Outcome.PROCESSED, str(result)
    assert _statuses(result) == {"in_app": ("failed", "render_error"), "email": ("pending", ""),
                                 "push": ("pending", "")}
    assert _statuses(other)["in_app"] == ("sent", "")  # another tenant's inbox, same batch
    assert list(InAppMessage.objects.values_list("tenant_id", flat=True)) == ["globex"]


@pytest.mark.parametrize("error", ["memory", "recursion", "runtime"])
def test_any_error_while_rendering_in_app_fails_that_record_with_the_type_only(tenant, error):
    with hostile_handler():
        [result, good] = process_events([hostile_event(f"inbox-{error}"), good_event(1)])

    assert result.outcome == Outcome.PROCESSED, str(result)
    assert _statuses(result) == {"in_app": ("failed", "render_error"), "email": ("pending", ""),
                                 "push": ("pending", "")}
    record = NotificationRecord.objects.get(pk=next(r.record_id for r in result.records if r.channel == "in_app"))
    expected = {"memory": "MemoryError", "recursion": "RecursionError", "runtime": "RuntimeError"}[error]
    assert record.error_detail == f"{expected}: cannot build the message"
    assert SECRET_IN_ERROR not in record.error_detail
    assert _statuses(good)["in_app"] == ("sent", "")
