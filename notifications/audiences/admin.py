"""Admin for audiences (registered by notifications/admin.py importing this module): topics, their subscriptions
(a topic may have a million: nothing here counts or loads them all), and fan-out jobs, read-only (the runner
writes them)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from notifications.audiences import topics
from notifications.audiences.models import FanOut, Subscription, Topic
from notifications.audiences.progress import fanout_status
from notifications.utils.readonly_admin import ReadOnlyAdminMixin


def _checked(form: forms.ModelForm, name: str, check: Any) -> Any:
    """A field through the API's check (notifications.audiences.topics), its message on the field."""
    try:
        return check(form.cleaned_data.get(name), name)
    except topics.TopicInputError as err:
        raise forms.ValidationError(str(err).removeprefix(f"{name}: ")) from err


class TopicForm(forms.ModelForm):
    class Meta:
        model = Topic
        fields = "__all__"

    def clean_key(self) -> str:
        return _checked(self, "key", topics.check_topic_key)

    def clean_name(self) -> str:
        return _checked(self, "name", topics.check_name)


class SubscriptionForm(forms.ModelForm):
    class Meta:
        model = Subscription
        fields = "__all__"

    def clean_user_id(self) -> str:
        return _checked(self, "user_id", topics.check_user_id)

    def clean_channels(self) -> list[str]:
        return _checked(self, "channels", topics.check_channels)


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    form = TopicForm
    list_display = ("key", "tenant", "name", "created_at")
    list_select_related = ("tenant",)
    search_fields = ("key",)
    readonly_fields = ("subscribers", "created_at", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Topic | None = None) -> Any:
        """Tenant and key are fixed once made: producers address the key, fan-outs the topic."""
        return (*self.readonly_fields, "tenant", "key") if obj is not None else self.readonly_fields

    @admin.display(description="subscribers")
    def subscribers(self, obj: Topic) -> str:
        """Counted on the detail page only (one COUNT over the topic's part of the index), never per list row."""
        return f"{topics.subscriber_count(obj):,}" if obj.pk else "-"

    def delete_model(self, request: HttpRequest, obj: Topic) -> None:
        topics.delete_topic(obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for topic in queryset:
            topics.delete_topic(topic)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ("user_id", "topic", "channels", "created_at")
    list_select_related = ("topic",)
    raw_id_fields = ("topic",)
    search_fields = ("user_id",)
    show_full_result_count = False  # no second COUNT over the whole table beside a search's


@admin.register(FanOut)
class FanOutAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("event", "tenant", "audience", "topic_key", "state", "total", "written", "records", "created_at",
                    "finished_at")
    list_select_related = ("tenant",)
    list_filter = ("state", "audience")
    readonly_fields = ["progress", *(f.name for f in FanOut._meta.fields if f.name != "recipients")]
    list_display_links = ("state",)  # the event column links to the event

    @admin.display(description="progress")
    def progress(self, obj: FanOut) -> str:
        """On the detail page only: the job's counts and its records by outcome (progress.fanout_status)."""
        status = fanout_status(obj)
        share = "?" if status["percent"] is None else f"{status['percent']}%"
        total = "?" if status["total"] is None else f"{status['total']:,}"
        return (f"{share}: {status['written']:,} of {total} recipients written, {status['records']:,} records; "
                f"sent {status['sent']:,}, failed {status['failed']:,}, cancelled {status['cancelled']:,}, waiting "
                f"{status['waiting']:,}; skipped {status['skipped'] or 'none'}")

    @admin.display(description="event", ordering="event_id")
    def event(self, obj: FanOut) -> str:
        """A link by id: no join loading each event's payload."""
        url = reverse("admin:notifications_event_change", args=[obj.event_id])
        return format_html('<a href="{}">{} {}</a>', url, obj.event_type, obj.event_id)
