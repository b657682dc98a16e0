"""Audiences: topics a tenant's users subscribe to, and the fan-out jobs that turn one event into a record set
per recipient (a list of user ids, a topic's subscribers, or every contact of the tenant)."""

from __future__ import annotations

from typing import Any

from django.db import connection, models
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from notifications.audiences.parse import TOPIC_KEY, TOPIC_KEY_RULE
from notifications.events.models import Event
from notifications.tenants.models import Tenant

__all__ = ["TOPIC_KEY", "TOPIC_KEY_RULE", "AudienceKind", "FanOut", "FanOutState", "Subscription", "Topic"]


class Topic(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="topics", db_index=False)
    key = models.CharField(max_length=128)
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="topic_unique_key")]
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.key}"


@receiver(pre_delete, sender=Topic)
def _delete_subscriptions(sender: type[Topic], instance: Topic, **kwargs: Any) -> None:
    """A topic's subscriptions go with it, in one statement, however it is deleted (Topic.delete(), a queryset's
    delete(), its tenant's deletion): no database constraint cascades them, and the ORM's collector would load
    each of a million."""
    table = connection.ops.quote_name(Subscription._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE topic_id = %s", [instance.pk])  # noqa: S608 - quoted model name


class Subscription(models.Model):
    """One user's subscription to a topic. `channels` narrows what the topic's events send them (e.g. only
    in_app); empty means every channel of the event. Read by (topic, user_id): the unique index is the fan-out's
    walk in user-id order."""

    # No database constraint, no collector: a topic's subscriptions are removed with it by one DELETE.
    topic = models.ForeignKey(Topic, on_delete=models.DO_NOTHING, related_name="subscriptions", db_constraint=False,
                              db_index=False)
    user_id = models.CharField(max_length=128)
    channels = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "user_id"], name="topic_subscription_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.topic_id}"


class AudienceKind(models.TextChoices):
    RECIPIENTS = "recipients"  # a list of user ids (`recipients`, or the payload's `user_ids`)
    TOPIC = "topic"  # a topic's subscribers at the time of the event (`to_topic`)
    ALL = "all"  # every contact of the tenant (`to_all`; a tenant setting allows it)


class FanOutState(models.TextChoices):
    PENDING = "pending"  # recorded at intake; no chunk written yet
    RUNNING = "running"  # chunks committed up to `cursor`
    DONE = "done"
    CANCELLED = "cancelled"  # its cancel key was cancelled: no more chunks
    FAILED = "failed"  # a chunk failed MAX_FAILURES times in a row (audiences.runner): `error` says why


OPEN_STATES = (FanOutState.PENDING.value, FanOutState.RUNNING.value)


class FanOut(models.Model):
    """One audience event's fan-out, written chunk by chunk: each chunk's records and the job's cursor and
    counts commit together, so after a crash it resumes after the last recipient committed and every recipient
    gets its records once."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="fanouts", db_constraint=False,
                               db_index=False)
    event = models.OneToOneField(Event, on_delete=models.CASCADE, related_name="fanout", db_constraint=False)
    event_type = models.CharField(max_length=128)
    audience = models.CharField(max_length=16, choices=AudienceKind.choices)
    topic_key = models.CharField(max_length=128, blank=True)
    # The topic as it was at intake (a topic deleted meanwhile ends the fan-out: its subscriptions are gone).
    topic = models.ForeignKey(Topic, on_delete=models.SET_NULL, null=True, blank=True, related_name="fanouts",
                              db_constraint=False, db_index=False)
    recipients = models.JSONField(default=list, blank=True, help_text="The listed user ids, sorted (recipients)")
    cancel_key = models.CharField(max_length=200, blank=True)
    deliver_at = models.DateTimeField(null=True, blank=True, help_text="The event's deliver_at or delay, if any")
    state = models.CharField(max_length=16, choices=FanOutState.choices, default=FanOutState.PENDING)
    cursor = models.CharField(max_length=128, blank=True, help_text="The last recipient written (user-id order)")
    total = models.PositiveBigIntegerField(null=True, blank=True, help_text="Recipients, counted at the start")
    written = models.PositiveBigIntegerField(default=0, help_text="Recipients whose records are written")
    records = models.PositiveBigIntegerField(default=0, help_text="Records written")
    skipped = models.JSONField(default=dict, blank=True, help_text="Skipped records by reason")
    failures = models.PositiveIntegerField(default=0, help_text="Chunks failed in a row")
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # The runner's queue, the least recently advanced first: only open jobs are indexed.
            models.Index(fields=["updated_at"], name="fanout_open_idx",
                         condition=models.Q(state__in=OPEN_STATES)),
            models.Index(fields=["tenant", "created_at"], name="fanout_tenant_created_idx"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"fan-out of {self.event_id} ({self.audience}, {self.state})"
