"""NotificationTemplate rows."""

from __future__ import annotations

import pytest

from notifications.models import NotificationTemplate
from tests.rendering.guide_template import GUIDE_TEMPLATE

pytestmark = pytest.mark.django_db


def test_template_for_a_tenant_never_seen_creates_it_with_defaults(db):
    template = NotificationTemplate.objects.create(tenant_id="brand-new", **GUIDE_TEMPLATE)
    assert template.tenant.name == "brand-new"
