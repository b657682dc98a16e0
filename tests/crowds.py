"""Big audiences for the fan-out tests that run the service in other processes (tests/audiences/test_crash_resume.py,
tests/kafka/test_fanout_priority.py): a tenant's contacts, and optionally a topic they all subscribe to, loaded
with COPY as bench/fanout.py loads them (bulk_create took ten times as long at 200,000).

Runs in the shared database's process: `shared_db.run_python(seed_code(...))` (PostgreSQL only)."""

from __future__ import annotations

import io

#: Contacts and subscriptions are dated before any event of the test: a fan-out reaches those created before it.
BEFORE = "2026-01-01 00:00:00+00"
_BLOCK = 50_000


def user_id(n: int, prefix: str = "user") -> str:
    return f"{prefix}-{n:07d}"


def seed(tenant_id: str, count: int, *, topic: str = "", settings: dict | None = None, prefix: str = "user") -> int:
    """The tenant (with `settings`), `count` contacts with e-mail addresses (user ids `<prefix>-0000000`...), and
    when `topic` is given, that topic with every contact subscribed. Returns the topic's id (0 without one)."""
    from django.db import connection

    from notifications.audiences.models import Subscription, Topic
    from notifications.tenants.models import Contact, Tenant

    Tenant.objects.create(id=tenant_id, name=f"Tenant {tenant_id}", settings=settings or {})
    contacts = connection.ops.quote_name(Contact._meta.db_table)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {contacts} (tenant_id, user_id, email, phone, first_name, last_name, locale, "
                      "timezone, quiet_hours, created_at, updated_at) FROM STDIN") as copy:
            for start in range(0, count, _BLOCK):
                buffer = io.StringIO()
                for n in range(start, min(start + _BLOCK, count)):
                    user = user_id(n, prefix)
                    buffer.write(f"{tenant_id}\t{user}\t{user}@example.com\t\tName{n}\t\t\t\t{{}}\t{BEFORE}\t"
                                 f"{BEFORE}\n")
                copy.write(buffer.getvalue())
        topic_id = 0
        if topic:
            topic_id = Topic.objects.create(tenant_id=tenant_id, key=topic).pk
            subscriptions = connection.ops.quote_name(Subscription._meta.db_table)
            with raw.copy(f"COPY {subscriptions} (topic_id, user_id, channels, created_at) FROM STDIN") as copy:
                for start in range(0, count, _BLOCK):
                    copy.write("".join(f"{topic_id}\t{user_id(n, prefix)}\t[]\t{BEFORE}\n"
                                       for n in range(start, min(start + _BLOCK, count))))
        cursor.execute(f"ANALYZE {contacts}")
    return topic_id


def seed_code(tenant_id: str, count: int, **options: object) -> str:
    """seed() as a line of code for `manage.py shell -c` (SharedDatabase.run_python)."""
    arguments = ", ".join(f"{name}={value!r}" for name, value in options.items())
    return f"from tests.crowds import seed; seed({tenant_id!r}, {count}{', ' + arguments if arguments else ''})"
