"""notifications/db/plans.py: planner settings for one read."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from notifications.db.plans import plan_settings


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_settings_hold_inside_the_block_only():
    if connection.vendor != "postgresql":
        with plan_settings(enable_seqscan="off"):  # SQLite: the block runs as it is
            assert not connection.in_atomic_block
        return
    before = _setting("work_mem")
    with plan_settings(enable_seqscan="off", work_mem="64MB"):
        assert connection.in_atomic_block
        assert (_setting("enable_seqscan"), _setting("work_mem")) == ("off", "64MB")
    assert (_setting("enable_seqscan"), _setting("work_mem")) == ("on", before)


@pytest.mark.django_db(transaction=True)
def test_a_callers_transaction_gets_its_own_settings_back():
    if connection.vendor != "postgresql":
        pytest.skip("planner settings are PostgreSQL's")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '8MB'")
        with plan_settings(work_mem="64MB", enable_seqscan="off"):
            assert _setting("work_mem") == "64MB"
        assert (_setting("work_mem"), _setting("enable_seqscan")) == ("8MB", "on")


@pytest.mark.django_db(transaction=True)
def test_a_block_that_raises_leaves_no_setting_behind():
    if connection.vendor != "postgresql":
        pytest.skip("planner settings are PostgreSQL's")
    with transaction.atomic():
        with pytest.raises(ZeroDivisionError), plan_settings(enable_seqscan="off"):
            assert _setting("enable_seqscan") == "off"
            raise ZeroDivisionError
        assert _setting("enable_seqscan") == "on"


@pytest.mark.django_db(transaction=True)
def test_a_database_error_in_the_block_goes_up_as_it_is_and_the_rollback_takes_the_settings():
    if connection.vendor != "postgresql":
        pytest.skip("planner settings are PostgreSQL's")
    from django.db import DataError

    with transaction.atomic():
        with pytest.raises(DataError), transaction.atomic():  # the caller's savepoint
            with plan_settings(enable_seqscan="off"), connection.cursor() as cursor:
                cursor.execute("SELECT 1 / 0")  # aborts the transaction: nothing can be put back after it
        assert _setting("enable_seqscan") == "on"


@pytest.mark.django_db(transaction=True)
def test_a_database_error_caught_inside_the_block_still_has_the_settings_put_back():
    """The block's own savepoint rolled back: the transaction goes on, and the settings are put back after it."""
    if connection.vendor != "postgresql":
        pytest.skip("planner settings are PostgreSQL's")
    from django.db import DataError

    with transaction.atomic():
        with plan_settings(enable_seqscan="off"):
            with pytest.raises(DataError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT 1 / 0")
            assert _setting("enable_seqscan") == "off"
        assert _setting("enable_seqscan") == "on"
