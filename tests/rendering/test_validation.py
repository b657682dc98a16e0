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
        ({"placeholders": ["first_name", "favourite_colour"]}, "unknown placeholder(s) for "
         "user.registration.completed: favourite_colour"),
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
