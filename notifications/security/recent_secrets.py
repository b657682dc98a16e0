"""The values of recently seen secrets, found in any text in time linear in the text's length.

Intake remembers up to 20,000 secret values (the fields handlers mark sensitive) so that log lines and stored
copies of rejected messages never show them. Testing `value in text` for each value cost ~0.8 ms per log line and
8-14 s for a 1 MB rejected message, under the lock every log line's filter takes: one junk message stalled intake
for every tenant. Here the values live in a few immutable Aho-Corasick automata (ahocorasick-rs, Rust), one scan
of the text each, whatever the number of values.

Measured in one run (20,000 values of 6-40 characters, a 1 MB text, a 50-character log line; 2 shared cores):
  `value in text` for each value       1.4 ms per line, ~7.7 s per MB
  pure Python, dict of 4-char prefixes  5 us per line, 0.44 s per MB (and quadratic for values sharing a prefix)
  one `re` alternation of all values    4.8 ms per line, ~66 s per MB, 0.67 s to compile
  pyahocorasick (C)                     2 us per line, 50 ms per MB, 0.37 s to build
  ahocorasick-rs, ContiguousNFA         <1 us per line, 14 ms per MB, 0.12 s to build (1,000 values: 1.5 ms)
  ahocorasick-rs, DFA                   <1 us per line, 18 ms per MB, 0.83 s to build

Building is too slow to redo on every registration (intake registers a batch's secrets at up to 10,000 events/s),
so the structure is LSM-like: the newest values (fewer than PENDING_LIMIT) are checked one by one with `str.find`;
once there are enough they become an automaton (a "run"), and FANOUT runs of one size tier are merged into one
run of the next tier (with 2, a binary counter: runs of 64, 128, 256... values), so each value is built into an
automaton about log(capacity / 64) times in its life. Builds happen outside the lock; the lock guards only the
recency order and the swap of the immutable view, so a scan never waits for a build. Measured in one run, 60,000
distinct values registered in batches of 50 into a capacity of 20,000 (a noisy shared machine):
  fanout 2: 38 us per new value, then 1 MB in 75 ms, a 50-char line in 4 us (4 runs)
  fanout 4: 38 us per new value, then 1 MB in 199 ms, a 50-char line in 11 us (6 runs)
  fanout 8: 19 us per new value, then 1 MB in 129 ms, a 50-char line in 7 us (5 runs)
A value already remembered costs ~0.1 us (its recency only), as before.

A value evicted by the capacity stays in its run until that run is merged (merges keep only live values): masking a
secret that expired a little later than its turn is harmless, and memory stays within about twice the capacity.

Matches of one run are leftmost-longest and do not overlap; matches of all runs and of the pending values are
merged where they overlap, so a secret inside another is covered by the longer one and repeated occurrences are
each masked. Two occurrences that partially overlap within one run leave the second one's tail unmasked, as the
former one-value-at-a-time replacement did for one of the two.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick_rs

logger = logging.getLogger(__name__)

PENDING_LIMIT = 64  # 64 `str.find`s: ~2 us per log line, ~12 ms per MB
FANOUT = 2  # this many runs of one tier are merged into one of the next (module docstring: measured)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _searchable(value: str) -> str:
    """The automaton works on UTF-8, which has no lone surrogates: a pattern holding one silently breaks the whole
    automaton (it then finds nothing) and a text holding one raises UnicodeEncodeError. Both are searched with
    U+FFFD in the surrogate's place; at worst a U+FFFD of a text is masked along with a secret (harmless)."""
    return value if value.isascii() else _SURROGATE.sub("\ufffd", value)


@dataclass(frozen=True, slots=True)
class _Run:
    values: tuple[str, ...]
    automaton: ahocorasick_rs.AhoCorasick

    @classmethod
    def build(cls, values: Iterable[str]) -> _Run:
        kept = tuple(values)
        automaton = ahocorasick_rs.AhoCorasick(
            [_searchable(value) for value in kept],
            matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
            implementation=ahocorasick_rs.Implementation.ContiguousNFA,
            store_patterns=False,
        )
        return cls(kept, automaton)


@dataclass(frozen=True, slots=True)
class _View:
    runs: tuple[_Run, ...]
    pending: tuple[str, ...]


class RecentSecrets:
    """A bounded, thread-safe set of recently seen secret values; `spans` finds them in a text."""

    def __init__(
        self, capacity: int = 20_000, min_length: int = 4, pending_limit: int = PENDING_LIMIT, fanout: int = FANOUT
    ) -> None:
        self._live: OrderedDict[str, None] = OrderedDict()  # recency order; every live value is in the view
        self._capacity = capacity
        self._min_length = min_length
        self._pending_limit = pending_limit
        self._fanout = fanout
        self._lock = threading.Lock()  # guards _live and the swaps of _view
        self._build_lock = threading.Lock()  # one builder at a time: only the builder removes from the view
        self._view = _View((), ())

    def add(self, values: Iterable[str]) -> None:
        with self._lock:
            fresh = []
            for value in values:
                if len(value) < self._min_length:
                    continue
                if value in self._live:
                    self._live.move_to_end(value)
                    continue
                self._live[value] = None
                fresh.append(value)
            while len(self._live) > self._capacity:
                self._live.popitem(last=False)
            if not fresh:
                return
            view = self._view
            self._view = _View(view.runs, view.pending + tuple(fresh))
        self._compact()

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where remembered values occur in the text: sorted, non-overlapping (start, end) character ranges."""
        view = self._view  # immutable: the reference is the snapshot
        found: list[tuple[int, int]] = []
        haystack = text
        for run in view.runs:
            try:
                matches = run.automaton.find_matches_as_indexes(haystack)
            except UnicodeEncodeError:
                haystack = _SURROGATE.sub("\ufffd", text)  # same length: indexes stay those of the text
                matches = run.automaton.find_matches_as_indexes(haystack)
            found += [(start, end) for _, start, end in matches]
        for value in view.pending:
            start = text.find(value)
            while start >= 0:
                end = start + len(value)
                found.append((start, end))
                start = text.find(value, end)
        return _merged(found) if len(view.runs) + len(view.pending) > 1 else found

    def run_sizes(self) -> list[int]:
        return [len(run.values) for run in self._view.runs]

    def _compact(self) -> None:
        while len(self._view.pending) >= self._pending_limit:
            if not self._build_lock.acquire(blocking=False):
                return  # the thread building now takes these values on its next turn
            try:
                self._build_pending()
                self._merge_runs()
            finally:
                self._build_lock.release()

    def _build_pending(self) -> None:
        batch = self._view.pending
        run = _Run.build(batch)
        with self._lock:
            view = self._view  # pending only grew at its end meanwhile
            self._view = _View((*view.runs, run), view.pending[len(batch):])

    def _merge_runs(self) -> None:
        while len(runs := self._view.runs) >= self._fanout and self._tier(runs[-self._fanout]) == self._tier(runs[-1]):
            live = self._live
            values = [value for run in runs[-self._fanout:] for value in run.values if value in live]
            merged = (_Run.build(dict.fromkeys(values)),) if values else ()
            with self._lock:
                view = self._view  # only the builder changes runs: its last ones are still those merged
                self._view = _View(view.runs[: -self._fanout] + merged, view.pending)

    def _tier(self, run: _Run) -> int:
        """Runs of one tier hold between pending_limit * fanout**tier and pending_limit * fanout**(tier + 1) values."""
        size, tier = len(run.values), 0
        while size >= self._pending_limit * self._fanout:
            size //= self._fanout
            tier += 1
        return tier


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping ranges joined into one (adjacent ones stay apart: each occurrence gets its own mask)."""
    if not spans:
        return spans
    spans.sort()
    out = [spans[0]]
    for start, end in spans[1:]:
        last_start, last_end = out[-1]
        if start < last_end:
            if end > last_end:
                out[-1] = (last_start, end)
        else:
            out.append((start, end))
    return out
