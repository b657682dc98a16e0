"""The results of processed events (notifications/intake/records.py): made whole by a fast path, and the same
objects as the dataclasses' own constructors make."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from notifications.enums import Outcome
from notifications.intake.records import processed_results
from notifications.intake.results import IntakeResult, RecordSummary
from notifications.intake.service import process_events
from notifications.testing import make_event


def _item(index: int, pk_text: str) -> SimpleNamespace:
    return SimpleNamespace(index=index, pk_text=pk_text,
                           event=SimpleNamespace(event_type="task.assigned", tenant_id="acme"))


def _record(item: SimpleNamespace, channel: str, status: str, reason: str, pk: int | None) -> SimpleNamespace:
    return SimpleNamespace(item=item, channel=channel, status=status, reason=reason, pk=pk)


def test_processed_results_equal_those_made_by_the_dataclasses_constructors():
    first, second, bare = _item(2, "key-a"), _item(0, "key-b"), _item(1, "key-c")
    records = [_record(first, "email", "pending", "", 11), _record(first, "in_app", "sent", "", 12),
               _record(second, "sms", "skipped", "no_address", None)]
    results: list[IntakeResult | None] = [None] * 4

    processed_results([first, second, bare], records, results)  # type: ignore[arg-type]

    expected = [
        IntakeResult(outcome=Outcome.PROCESSED, event_type="task.assigned", tenant_id="acme", event_id="key-b",
                     records=(RecordSummary(channel="sms", status="skipped", reason="no_address", record_id=None),)),
        IntakeResult(outcome=Outcome.PROCESSED, event_type="task.assigned", tenant_id="acme", event_id="key-c"),
        IntakeResult(outcome=Outcome.PROCESSED, event_type="task.assigned", tenant_id="acme", event_id="key-a",
                     records=(RecordSummary(channel="email", status="pending", record_id=11),
                              RecordSummary(channel="in_app", status="sent", record_id=12))),
        None,  # not an accepted event's place
    ]
    assert results == expected
    assert [hash(result) for result in results[:3]] == [hash(result) for result in expected[:3]]
    assert [repr(result) for result in results] == [repr(result) for result in expected]
    assert [str(result) for result in results[:3]] == [str(result) for result in expected[:3]]


def test_processed_results_stay_frozen():
    item = _item(0, "key")
    results: list[IntakeResult | None] = [None]
    processed_results([item], [_record(item, "email", "pending", "", 1)], results)  # type: ignore[arg-type]
    result = results[0]
    assert result is not None

    with pytest.raises(dataclasses.FrozenInstanceError):
        result.event_id = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.records[0].status = "sent"  # type: ignore[misc]


@pytest.mark.django_db
def test_intake_results_have_every_field_as_the_constructor_sets_it(tenant):
    results = process_events([make_event("task.assigned"), make_event("comment.mentioned")])

    for result in results:
        assert result.outcome == Outcome.PROCESSED and result.records
        fields = {field.name: getattr(result, field.name) for field in dataclasses.fields(IntakeResult)}
        assert vars(result) == fields  # nothing more, nothing less
        assert result == IntakeResult(**fields)
        for summary in result.records:
            assert summary == RecordSummary(**{f.name: getattr(summary, f.name) for f in dataclasses.fields(summary)})
            assert summary.record_id is not None
