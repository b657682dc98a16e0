"""What a rule set does to one event, without writing anything: the rules each matched or not (and the ones that
failed on it), and the records the planner would write for it, per channel: sent or skipped with the reason,
lane, when, provider and template. It runs intake's own planner (intake.planning) on the tenant's stored
contact, preferences, devices and rate limits, reading them only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from notifications.enums import Lane, Status
from notifications.events.envelope import EventRejection, validate_event
from notifications.events.registry import event_registry
from notifications.intake.planning import Accepted, planner_for
from notifications.rules.book import RuleBook
from notifications.rules.compiled import CompiledRules
from notifications.rules.definition import read_rules
from notifications.rules.models import RuleSet
from notifications.rules.outcome import read_route
from notifications.rules.validation import check_rules
from notifications.tenants.models import Contact, Tenant


class DryRunRefused(ValueError):
    """The event cannot be tried: it does not validate, or it is addressed to an audience."""


@dataclass(frozen=True, slots=True)
class DryRun:
    version: int | None  # the stored version tried; None: a draft
    rules: list[dict[str, Any]]  # per rule evaluated: {"rule", "matched", "error"?}
    records: list[dict[str, Any]]
    warnings: list[str]


def dry_run(tenant: Tenant, event: Mapping[str, Any], draft: Any = None) -> DryRun:
    """`draft`: a rule set to try (checked as on save: RulesInvalid names its bad parts); None: the current."""
    warnings: list[str] = []
    if draft is not None:
        rules, warnings = check_rules(tenant, draft)
        version = None
    else:
        stored = RuleSet.objects.filter(tenant=tenant).order_by("-version").first()
        rules, version = (read_rules(stored.rules), stored.version) if stored else ([], 0)
    validated = validate_event({**event, "tenant_id": tenant.id}, event_registry)
    if isinstance(validated, EventRejection):
        raise DryRunRefused(f"the event is refused as intake would refuse it: {validated.detail}")
    if validated.audience is not None or not validated.user_id:
        raise DryRunRefused("a dry run takes one recipient's event (user_id), not an audience")
    compiled = CompiledRules(tenant.id, version or 0, rules)
    stored_contact = Contact.objects.filter(tenant=tenant, user_id=validated.user_id).first()
    contact = {key: value for key, value in (stored_contact.as_dict() if stored_contact else {}).items() if value}
    contact.update(validated.handler.get_contact_fields(validated.payload))
    trace: list[dict[str, Any]] = []
    plan = compiled.plan_for(validated.event_type)
    if plan is not None:
        compiled.evaluate(plan, validated.event_type, validated.typed or validated.payload, validated.metadata, contact,
                          validated.handler.sensitive_fields, trace)
    item = Accepted(0, validated, "dry-run", validated.payload, contact=contact)
    planner = planner_for([item], {tenant.id: tenant}, timezone.now(), rules=RuleBook.of(tenant.id, compiled),
                          windows=False)
    if any("error" in step for step in trace):  # the failing rule is reported; the planner would fail the event
        return DryRun(version, trace, [], warnings)
    planner.plan(item)
    return DryRun(version, trace, [_record(planned) for planned in planner.records], warnings)


def _record(planned: Any) -> dict[str, Any]:
    route = read_route(planned.route)
    skipped = planned.status == Status.SKIPPED.value
    return {
        "channel": planned.channel,
        "outcome": "skipped" if skipped else "sent" if planned.status == Status.PENDING.value else planned.status,
        "reason": planned.reason,
        "detail": planned.error_detail,
        "lane": Lane(planned.item.lane).name.lower(),
        "due_at": planned.next_attempt_at if planned.status == Status.SCHEDULED.value else None,
        "provider": route.get("provider"),
        "template": route.get("template"),
    }
