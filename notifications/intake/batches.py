"""The size intake's look-ups and bulk writes are cut to: a few hundred keys per statement keeps each query's
parameters and its plan small, whatever the batch's size."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
CHUNK = 500


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
