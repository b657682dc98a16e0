"""A tenant's rules (notifications/rules), scoped by the API key's tenant: the current set with its version, a new
version on each PUT (optionally only over the version the caller read: 409 otherwise), the older versions, and a
dry run of the current or a draft set on one event. A bad rule set answers 422 with every bad part named
(`problems`: where, message, position in the condition)."""

from datetime import datetime
from typing import Annotated, Any

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from notifications.api.auth import TenantRequest
from notifications.api.schemas import Problem
from notifications.rules import store
from notifications.rules.definition import MAX_RULES
from notifications.rules.dryrun import DryRunRefused, dry_run
from notifications.rules.errors import RulesInvalid, VersionConflict
from notifications.rules.models import RuleSet
from notifications.tenants.models import Tenant

router = Router(tags=["rules"])


class RuleProblem(Schema):
    where: str
    message: str
    position: int | None = None


class RulesProblem(Schema):
    detail: str
    problems: list[RuleProblem]


VersionNumber = Annotated[int, Field(ge=1, le=2**31 - 1)]


class RulesIn(Schema):
    rules: list[dict[str, Any]] = Field(..., max_length=MAX_RULES, description="The ordered rules (rules/README.md)")
    expected_version: int | None = Field(None, ge=0, le=2**31 - 1, description="Refused with 409 unless this is "
                                         "the current version (0: none saved yet)")


class RulesOut(Schema):
    version: int
    rules: list[Any]
    saved_by: str = ""
    created_at: datetime | None = None
    warnings: list[str] = []


class VersionOut(Schema):
    version: int
    rules_count: int
    saved_by: str
    created_at: datetime


class DryRunIn(Schema):
    event: dict[str, Any] = Field(..., description="An event as a producer sends it (its tenant_id is the key's)")
    rules: list[dict[str, Any]] | None = Field(None, max_length=MAX_RULES,
                                               description="A draft to try; else the current rules")


class DryRunOut(Schema):
    version: int | None
    rules: list[dict[str, Any]]
    records: list[dict[str, Any]]
    warnings: list[str] = []


def _out(rule_set: RuleSet | None, warnings: list[str] | None = None) -> dict[str, Any]:
    if rule_set is None:
        return {"version": 0, "rules": [], "warnings": []}
    return {"version": rule_set.version, "rules": rule_set.rules, "saved_by": rule_set.saved_by,
            "created_at": rule_set.created_at, "warnings": warnings or []}


def _invalid(err: RulesInvalid) -> Status:
    return Status(422, {"detail": str(err), "problems": [
        {"where": p.where, "message": p.message, "position": p.position} for p in err.problems]})


@router.get("", response=RulesOut, summary="The current rules and their version")
def get_rules(request: TenantRequest):
    return _out(store.current(request.auth.tenant_id))


@router.put("", response={200: RulesOut, 409: Problem, 422: RulesProblem}, summary="Save a new version")
def put_rules(request: TenantRequest, body: RulesIn):
    try:
        saved = store.save_rules(request.auth.tenant_id, body.rules, expected_version=body.expected_version,
                                 saved_by="api")
    except RulesInvalid as err:
        return _invalid(err)
    except VersionConflict as err:
        return Status(409, {"detail": str(err)})
    return _out(saved.rule_set, saved.warnings)


@router.get("/versions", response=list[VersionOut], summary="Every saved version, newest first")
def list_versions(request: TenantRequest):
    return [{"version": r.version, "rules_count": len(r.rules) if isinstance(r.rules, list) else 0,
             "saved_by": r.saved_by, "created_at": r.created_at} for r in store.versions(request.auth.tenant_id)]


@router.get("/versions/{int:number}", response=RulesOut, summary="One saved version")
def get_version(request: TenantRequest, number: VersionNumber):
    rule_set = store.version(request.auth.tenant_id, number)
    if rule_set is None:
        raise HttpError(404, f"no rules version {number}")
    return _out(rule_set)


@router.post("/dry-run", response={200: DryRunOut, 422: RulesProblem}, summary="What rules do to one event")
def post_dry_run(request: TenantRequest, body: DryRunIn):
    """Nothing is written: the rules' matches and the records the planner would write, per channel."""
    tenant = get_object_or_404(Tenant, pk=request.auth.tenant_id)
    try:
        result = dry_run(tenant, body.event, body.rules)
    except RulesInvalid as err:
        return _invalid(err)
    except DryRunRefused as err:
        return Status(422, {"detail": str(err), "problems": [{"where": "event", "message": str(err)}]})
    return {"version": result.version, "rules": result.rules, "records": result.records,
            "warnings": result.warnings}
