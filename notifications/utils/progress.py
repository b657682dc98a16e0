"""A text progress bar for management commands: `[#####.....] 52% 520,000/1,000,000 recipients, 31,200/s`.

On a terminal it is one line redrawn in place (carriage return); elsewhere (a log, a pipe) it prints a line each
time another tenth is reached, so a log gets ten lines, not one per update. `finish()` ends the line."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["ProgressBar"]


class ProgressBar:
    """`update(done, total)` as often as convenient; a terminal is redrawn at most every `interval` seconds (the
    last update always). `done` counts from zero or from `start` (work done before this run: the rate counts only
    this run's)."""

    def __init__(self, write: Callable[[str], object], *, tty: bool, total: int | None = None, start: int = 0,
                 unit: str = "recipients", width: int = 10, interval: float = 0.1, prefix: str = "",
                 clock: Callable[[], float] = time.monotonic, started: float | None = None) -> None:
        self._write, self.tty, self.total, self.start, self.unit = write, tty, total, start, unit
        self.width, self.interval, self.prefix, self._clock = width, interval, prefix, clock
        self.started = clock() if started is None else started
        self.done = start
        self._drawn_at: float | None = None
        self._tenths = -1  # the last tenth printed (not a terminal)
        self._shown = ""  # the line as last written
        self._printed: tuple[int, int | None] | None = None  # (done, total) as last printed (not a terminal)
        self.finished = False

    def percent(self) -> float | None:
        if self.total is None:
            return None
        return 100.0 if self.total <= 0 else min(self.done, self.total) * 100 / self.total

    def rate(self) -> float:
        elapsed = self._clock() - self.started
        return (self.done - self.start) / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        share = self.percent()
        filled = 0 if share is None else int(share * self.width / 100)
        bar = "#" * filled + "." * (self.width - filled)
        shown = " ?%" if share is None else f"{int(share):>3}%"
        total = "?" if self.total is None else f"{self.total:,}"
        return f"{self.prefix}[{bar}] {shown} {self.done:,}/{total} {self.unit}, {self.rate():,.0f}/s"

    def update(self, done: int, total: int | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if self.tty:
            now = self._clock()
            if self._drawn_at is None or now - self._drawn_at >= self.interval or self._complete():
                self._drawn_at = now
                self._draw()
            return
        share = self.percent()
        tenths = -1 if share is None else int(share // 10)
        if tenths > self._tenths:
            self._tenths = tenths
            self._print()

    def finish(self) -> None:
        """Ends the bar: the terminal's line gets its last state and a newline; elsewhere the last state is
        printed unless it was the last line printed."""
        if self.finished:
            return
        self.finished = True
        if self.tty:
            self._draw()
            self._write("\n")
        elif self._printed != (self.done, self.total):
            self._print()

    def _complete(self) -> bool:
        return self.total is not None and self.done >= self.total

    def _draw(self) -> None:
        text = self.line()
        padding = " " * max(0, len(self._shown) - len(text))  # a shorter line covers all of the last one
        self._shown = text
        self._write(f"\r{text}{padding}")

    def _print(self) -> None:
        self._printed = (self.done, self.total)
        self._shown = self.line()
        self._write(self._shown + "\n")
