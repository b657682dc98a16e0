"""`manage.py fanout`: list, status, and run with its progress bar (a line per tenth when stderr is not a
terminal, one line redrawn when it is)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from notifications.audiences.models import FanOut, FanOutState
from notifications.audiences.runner import run_chunk
from notifications.delivery.models import NotificationRecord
from notifications.tenants.models import Tenant
from tests.fanouts import contacts, fanout_to

pytestmark = pytest.mark.django_db


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def fanout(*args: str, stderr: io.StringIO | None = None) -> tuple[str, str]:
    out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
    call_command("fanout", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_run_writes_every_open_fanout_with_a_bar_then_each_ones_status(tenant):
    ids = contacts(tenant, 25)
    first, second = fanout_to(ids), fanout_to([*ids[:5], "nobody"])
    out, err = fanout("run", "--chunk", "2")

    assert {job.state for job in FanOut.objects.all()} == {FanOutState.DONE}
    assert NotificationRecord.objects.filter(event_id=first.event_id, channel="email").count() == 25
    lines = err.splitlines()
    assert "\r" not in err  # not a terminal: a line per tenth
    mine = [line for line in lines if line.startswith(f"fan-out {first.pk} ")]
    shares = [int(line.split("%")[0][-3:]) for line in mine]
    assert [share // 10 for share in shares] == list(range(11))  # a line each time another tenth is reached
    assert f"fan-out {first.pk} [##########] 100% 25/25 recipients" in err
    assert f"fan-out {second.pk} [##########] 100% 6/6 recipients" in err
    assert lines[-1].startswith(f"fan-out {second.pk} [##########] 100%")
    assert f"fan-out {first.pk}: done (task.assigned to recipients, tenant acme, event {first.event_id})" in out
    assert "  recipients: 25 of 25 written (100%)" in out
    assert f"fan-out {second.pk}: done" in out and "unknown_recipient" in out
    assert fanout("run")[0] == "no open fan-outs\n"


def test_on_a_terminal_the_bar_is_one_line_redrawn_and_ends_with_a_newline(tenant):
    job = fanout_to(contacts(tenant, 30))
    run_chunk(job.pk, size=10)  # a third written before: the bar starts there
    terminal = Terminal()
    out, err = fanout("run", "--id", str(job.pk), "--chunk", "10", stderr=terminal)
    assert err.startswith(f"\rfan-out {job.pk} [######....]  66% 20/30 recipients, ")
    assert err.count("\n") == 1 and err.endswith("/s\n")
    assert f"\rfan-out {job.pk} [##########] 100% 30/30 recipients, " in err
    assert "\x1b[" not in err  # no colour: the bar is written as is
    assert out.startswith(f"fan-out {job.pk}: done")


def test_run_one_fanout_leaves_the_others(tenant):
    ids = contacts(tenant, 3)
    one, other = fanout_to(ids), fanout_to(ids)
    fanout("run", "--id", str(other.pk))
    states = dict(FanOut.objects.values_list("id", "state"))
    assert (states[one.pk], states[other.pk]) == (FanOutState.PENDING, FanOutState.DONE)
    again, _ = fanout("run", "--id", str(other.pk))
    assert again.startswith(f"fan-out {other.pk} is not open (nothing to run):\nfan-out {other.pk}: done")


def test_status_and_list(tenant):
    Tenant.objects.create(id="globex", name="Globex")
    job = fanout_to(contacts(tenant, 4))
    theirs = fanout_to(contacts("globex", 1, prefix="g"), tenant_id="globex")
    run_chunk(job.pk, size=3)

    status, _ = fanout("status", str(job.pk))
    assert status.splitlines()[:2] == [
        f"fan-out {job.pk}: running (task.assigned to recipients, tenant acme, event {job.event_id})",
        "  recipients: 3 of 4 written (75%)",
    ]
    records = NotificationRecord.objects.filter(event_id=job.event_id)
    assert f"  records:    {records.count()} written;" in status
    assert f"  outcome:    0 sent, 0 failed, 0 cancelled, {records.filter(status='pending').count()} waiting" in status
    assert "  times:      created " in status and "finished" not in status

    listed, _ = fanout("list")
    rows = [line.split("\t") for line in listed.splitlines()]
    assert [int(row[0]) for row in rows] == [theirs.pk, job.pk]
    assert rows[1][2:6] == ["acme", "task.assigned", "recipients", "running"] and rows[1][6] == "3/4 (75%)"
    only, _ = fanout("list", "--tenant-id", "globex")
    assert [int(line.split("\t")[0]) for line in only.splitlines()] == [theirs.pk]
    assert fanout("list", "--tenant-id", "nobody")[0] == "no fan-outs\n"


@pytest.mark.parametrize("args", [("status", "999999"), ("run", "--id", "999999"), ("run", "--chunk", "0")])
def test_unknown_ids_and_bad_chunks_are_errors(db, args: Any):
    with pytest.raises(CommandError):
        fanout(*args)
