"""A topic's subscriptions go with it, however it is deleted (no database constraint cascades them)."""

from __future__ import annotations

import pytest

from notifications.audiences.models import Subscription, Topic
from notifications.tenants.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("how", ["instance", "queryset", "tenant"])
def test_subscriptions_go_with_their_topic(how):
    tenant, other = Tenant.objects.create(id="acme"), Tenant.objects.create(id="globex")
    topic, kept = Topic.objects.create(tenant=tenant, key="t"), Topic.objects.create(tenant=other, key="t")
    Subscription.objects.bulk_create([Subscription(topic=topic, user_id=f"u{i}") for i in range(5)]
                                     + [Subscription(topic=kept, user_id="u0")])
    if how == "instance":
        topic.delete()
    elif how == "queryset":
        Topic.objects.filter(tenant=tenant).delete()
    else:
        tenant.delete()
    assert list(Subscription.objects.values_list("topic_id", flat=True)) == [kept.pk]
