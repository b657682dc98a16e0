"""A tenant template is validated when saved: unknown placeholders, syntax, fields, names and channels."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from notifications.models import NotificationTemplate
from tests.rendering.guide_template import GUIDE_TEMPLATE

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"placeholders": ["first_name", "favourite colour"]}, "not a field name: 'favourite colour'"),
        ({"content": {"subject": "Hi {{ shoe_size }}", "body": "{{ nickname }}"}},
         "unknown placeholder(s) for user.registration.completed: nickname, shoe_size"),
        ({"content": {"subject": "Hi {{ first_name", "body": "x"}}, "syntax error"),
        ({"content": {"body": "no subject"}}, "need field(s): subject"),
        ({"name": "order_shipped_email"}, "no registered event type has a template named 'order_shipped_email'"),
        ({"channel": "fax"}, "unknown channel"),
        ({"channel": "sms"}, "is not for channel 'sms'"),
    ],
)
def test_invalid_template_is_refused_with_a_clear_error(tenant, changes, message):
    with pytest.raises(ValidationError) as err:
        NotificationTemplate.objects.create(tenant_id=tenant.id, **{**GUIDE_TEMPLATE, **changes})

    assert message in str(err.value)
    assert NotificationTemplate.objects.count() == 0


def test_a_field_producers_send_beyond_the_schema_is_usable_once_declared(tenant, deliver):
    """Unknown payload fields are kept and passed to templates (issue 19.5): a template names one in
    `placeholders` and renders it; the same name undeclared is refused as a typo would be."""
    from django.core import mail

    from notifications.events.registry import event_registry
    from notifications.testing import make_event

    content = {"subject": "Your code {{ discount_code }}", "body": "Use {{ discount_code }} at checkout."}
    with pytest.raises(ValidationError, match="discount_code"):
        NotificationTemplate.objects.create(tenant_id=tenant.id, name="task_assigned_email", channel="email",
                                            content=content)
    NotificationTemplate.objects.create(tenant_id=tenant.id, name="task_assigned_email", channel="email",
                                        content=content, placeholders=["discount_code"])
    event_registry.process_event(make_event("task.assigned", discount_code="SAVE-20"))
    deliver()
    assert [message.subject for message in mail.outbox] == ["Your code SAVE-20"]
