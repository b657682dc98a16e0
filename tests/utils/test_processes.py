"""`--processes`: several copies of a command under one supervisor, forked or started afresh."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from notifications.utils.processes import run_copies
from tests.shared import ROOT


def test_forked_copies_return_the_exit_code_of_a_failed_copy(tmp_path):
    """A supervisor with no other thread forks its copies (the way manage.py runs it)."""
    script = ("import sys, django; django.setup()\n"
              "from notifications.utils.processes import run_copies\n"
              "ok = run_copies('check', lambda index: [], 2)\n"
              "failed = run_copies('no_such_command', lambda index: [], 2)\n"
              "sys.exit(0 if (ok, failed != 0) == (0, True) else 3)\n")
    env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, "NOTIFICATIONS_VAR_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "notification_service.settings"}
    finished = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=60)
    assert finished.returncode == 0, finished.stderr
    assert "Unknown command: 'no_such_command'" in finished.stderr  # from a forked copy


def test_copies_of_a_threaded_process_start_afresh_and_return_exit_codes():
    """Forking a process that has threads could copy a held lock: such a supervisor starts new interpreters."""
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait, daemon=True)
    helper.start()
    try:
        assert run_copies("check", lambda index: [], 2) == 0
        assert run_copies("no_such_command", lambda index: [], 2) != 0
    finally:
        stop.set()


def test_settle_heap_moves_what_start_up_loaded_out_of_the_collectors_view():
    import gc

    from notifications.utils.processes import settle_heap

    gc.unfreeze()
    try:
        settle_heap()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # Django and the service's modules
        assert sum(gc.get_count()) < 100  # collected first: nothing young is carried into the frozen set
    finally:
        gc.unfreeze()
