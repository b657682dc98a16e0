"""New event keys (notifications/intake/keys.py): version 7 UUIDs, time-ordered, distinct."""

from __future__ import annotations

import uuid

import pytest

from notifications.intake import keys
from notifications.intake.keys import new_uuid_texts

MS = 1_000_000  # nanoseconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The keys' clock, in nanoseconds: set now[0] to move it."""
    now = [1_767_225_600_000 * MS]  # 2026-01-01, in Unix milliseconds
    monkeypatch.setattr(keys, "time_ns", lambda: now[0])
    return now


def test_new_event_keys_are_distinct_version_7_uuids_stamped_with_the_clock(clock):
    made = new_uuid_texts(5000)

    assert len(set(made)) == 5000
    parsed = [uuid.UUID(key) for key in made]
    assert all(str(value) == key for value, key in zip(parsed, made, strict=True))  # canonical lower-case text
    assert {value.version for value in parsed} == {7}
    assert {value.variant for value in parsed} == {uuid.RFC_4122}
    assert {value.int >> 80 for value in parsed} == {clock[0] // MS}  # the first 48 bits: Unix milliseconds


def test_keys_made_a_millisecond_later_sort_after_earlier_ones(clock):
    earlier = new_uuid_texts(1000)
    clock[0] += MS

    assert min(new_uuid_texts(1000)) > max(earlier)


def test_no_keys_for_an_empty_batch(clock):
    assert new_uuid_texts(0) == []
