"""The commands' progress bar: one line redrawn on a terminal, a line per tenth elsewhere."""

from __future__ import annotations

from notifications.utils.progress import ProgressBar


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def bar(tty: bool, **options) -> tuple[ProgressBar, list[str], Clock]:
    out: list[str] = []
    clock = Clock()
    return ProgressBar(out.append, tty=tty, clock=clock, **options), out, clock


def test_the_line_shows_the_bar_the_share_the_counts_and_the_rate():
    progress, _, clock = bar(tty=True, total=1_000_000)
    clock.now += 520_000 / 31_200
    progress.done = 520_000
    assert progress.line() == "[#####.....]  52% 520,000/1,000,000 recipients, 31,200/s"
    progress.done = 1_000_000
    assert progress.line().startswith("[##########] 100% 1,000,000/1,000,000 recipients")


def test_an_unknown_total_and_an_empty_one():
    progress, _, _ = bar(tty=True)
    progress.done = 5
    assert progress.line() == "[..........]  ?% 5/? recipients, 0/s"
    empty, _, _ = bar(tty=True, total=0, unit="users")
    assert empty.line() == "[##########] 100% 0/0 users, 0/s"


def test_a_terminal_gets_one_line_redrawn_then_a_newline():
    progress, out, clock = bar(tty=True, total=100, prefix="fan-out 7 ")
    for done in range(10, 101, 10):
        clock.now += 1
        progress.update(done)
    progress.finish()
    assert all(part.startswith("\r") for part in out[:-1]) and out[-1] == "\n"
    assert "".join(out).count("\n") == 1
    assert out[-2].startswith("\rfan-out 7 [##########] 100% 100/100 recipients, 10/s")


def test_a_terminal_is_redrawn_at_most_every_interval_but_always_at_the_end():
    progress, out, clock = bar(tty=True, total=1000, interval=0.5)
    for done in range(1, 1001):
        clock.now += 0.001
        progress.update(done)
    assert len(out) == 3  # the first, 0.5 s later, and the last
    assert "1,000/1,000" in out[-1]


def test_a_shorter_line_covers_the_longer_one_before_it():
    progress, out, clock = bar(tty=True, total=10)
    clock.now += 0.001
    progress.update(9)  # 9,000/s
    clock.now += 100
    progress.update(10)  # 0/s
    assert len(out[-1]) >= len(out[-2])


def test_elsewhere_a_line_per_tenth_and_the_last_state_once():
    progress, out, clock = bar(tty=False, total=1000, start=200)
    for done in range(201, 1001):
        clock.now += 0.01
        progress.update(done)
    progress.finish()
    assert [line.split("%")[0][-3:].strip() for line in out] == ["20", "30", "40", "50", "60", "70", "80", "90",
                                                                  "100"]
    assert all(line.endswith("\n") and "\r" not in line for line in out)
    assert out[-1].startswith("[##########] 100% 1,000/1,000 recipients, 100/s")


def test_elsewhere_a_bar_that_stops_short_prints_where_it_stopped():
    progress, out, _ = bar(tty=False, total=1000)
    progress.update(250)
    progress.update(370)
    progress.finish()
    progress.finish()
    assert [line[13:17] for line in out] == [" 25%", " 37%"]
