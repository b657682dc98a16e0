"""POST /api/v1/replays: replay the calling tenant's stored events (notifications/history/replay.py): a dry run with
draft templates (nothing sent, nothing written), or live through intake under replay keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Router, Schema
from ninja.errors import HttpError

from notifications.api.auth import TenantRequest
from notifications.api.times import bounded_time
from notifications.history.replay import DEFAULT_SAMPLE, ReplayError, ReplayQuery, replay
from notifications.rendering.models import NotificationTemplate
from notifications.rendering.validation import validate_template
from notifications.rules.definition import MAX_RULES
from notifications.rules.errors import RulesInvalid
from notifications.storable import EventType, Storable

router = Router(tags=["history"])

MAX_IDS, MAX_TYPES, MAX_DRAFTS = 1000, 100, 50


class DraftTemplateIn(Schema):
    name: Annotated[str, Storable(200, min_length=1)]
    channel: Annotated[str, Storable(16, min_length=1)]
    content: dict[Annotated[str, Storable(32)], Annotated[str, Storable(100_000)]]


class ReplayIn(Schema):
    since: datetime | None = None
    until: datetime | None = None
    event_ids: Annotated[list[uuid.UUID], Field(max_length=MAX_IDS)] = []
    event_types: Annotated[list[EventType], Field(max_length=MAX_TYPES)] = []
    templates: Annotated[list[DraftTemplateIn], Field(max_length=MAX_DRAFTS)] = []
    rules: Annotated[list[dict[str, Any]] | None, Field(max_length=MAX_RULES)] = None  # as PUT /api/v1/rules
    mode: Literal["dry_run", "live"] = "dry_run"
    key: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_.-]*$")] = ""  # replay.KEY
    sample: Annotated[int, Field(ge=0, le=100)] = DEFAULT_SAMPLE


@router.post("", response=dict[str, Any])
def create_replay(request: TenantRequest, body: ReplayIn):
    """A dry run answers counts per channel and outcome, how many differ from what happened, samples of the
    differences and of rendered messages. Live answers each replayed event's intake result."""
    tenant_id = request.auth.tenant_id
    drafts: dict[str, dict[str, str]] = {}
    for draft in body.templates:  # checked as a template being saved is (notifications/rendering/validation.py)
        template = NotificationTemplate(tenant_id=tenant_id, name=draft.name, channel=draft.channel,
                                        content=draft.content)
        validate_template(template)
        drafts[template.name] = dict(template.content)
    query = ReplayQuery(tenant_id, bounded_time(body.since, "since") if body.since else None,
                        bounded_time(body.until, "until") if body.until else None,
                        tuple(str(pk) for pk in body.event_ids), tuple(body.event_types))
    try:
        summary = replay(query, drafts=drafts, rules=body.rules, live=body.mode == "live", key=body.key,
                         sample=body.sample)
    except ReplayError as err:
        raise HttpError(422, str(err)) from err
    except RulesInvalid as err:
        raise HttpError(422, "rules: " + "; ".join(map(str, err.problems))) from err
    return summary.as_dict()
