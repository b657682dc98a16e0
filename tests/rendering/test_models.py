"""NotificationTemplate rows."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from notifications.models import NotificationTemplate
from tests.rendering.guide_template import GUIDE_TEMPLATE

pytestmark = pytest.mark.django_db


def test_template_for_a_tenant_never_seen_creates_it_with_defaults(db):
    template = NotificationTemplate.objects.create(tenant_id="brand-new", **GUIDE_TEMPLATE)
    assert template.tenant.name == "brand-new"


def _push(tenant_id: str, locale: str, title: str = "t") -> NotificationTemplate:
    return NotificationTemplate.objects.create(tenant_id=tenant_id, name="task_assigned_push", channel="push",
                                               locale=locale, content={"title": title, "body": "b"})


def test_locale_is_stored_canonical_and_one_template_per_name_and_locale(tenant):
    assert _push(tenant.id, "de_at").locale == "de-AT"
    assert _push(tenant.id, "").locale == ""
    assert _push(tenant.id, "DE").locale == "de"
    with pytest.raises(IntegrityError), transaction.atomic():
        _push(tenant.id, "de-AT")
    assert NotificationTemplate.objects.filter(tenant=tenant).count() == 3


@pytest.mark.parametrize("bad", ["xx-not-a-locale", "de-" + "A" * 40, "!!"])
def test_an_unknown_locale_is_refused_naming_the_field(tenant, bad):
    with pytest.raises(ValidationError) as caught:
        _push(tenant.id, bad)
    assert "unknown locale" in caught.value.message_dict["locale"][0]
    assert not NotificationTemplate.objects.exists()


def test_versions_count_per_name_and_locale(tenant):
    german, default = _push(tenant.id, "de"), _push(tenant.id, "")
    german.content = {"title": "neu", "body": "b"}
    german.save()
    assert (german.version, default.version) == (2, 1)
    assert str(german) == "acme/task_assigned_push[de] v2"
