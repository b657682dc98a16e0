"""`POST /api/v1/events/cancel`: cancel the key's notifications not yet sent (scheduling/cancel.py)."""

from ninja import Router, Schema
from ninja.errors import HttpError

from notifications.api.auth import TenantRequest
from notifications.events.decoding import strict_loads
from notifications.events.handlers.control import MAX_CANCEL_KEY, cancel_key_problem
from notifications.scheduling.cancel import cancel

router = Router(tags=["events"])

SHAPE = 'the body must be a JSON object with only cancel_key: {"cancel_key": "..."}'
# The body is read here, not by django-ninja, so that every bad body is a 422 naming the problem (ninja answers
# unparsable JSON with a bare 400); the OpenAPI document still shows its shape.
REQUEST_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["cancel_key"], "additionalProperties": False,
    "properties": {"cancel_key": {"type": "string", "minLength": 1, "maxLength": MAX_CANCEL_KEY}}}}}}


class CancelOut(Schema):
    cancelled: int


@router.post("/cancel", response=CancelOut, summary="Cancel the notifications of a cancel_key not yet sent",
             openapi_extra={"requestBody": REQUEST_BODY})
def cancel_key(request: TenantRequest):
    """Cancels, for the API key's tenant, every notification whose event carried this `cancel_key` and that is
    not yet sent (pending, scheduled or retrying); answers how many. A notification a worker is sending right
    now is not cancelled: it goes. The same as a `notification.cancel` event, answered at once."""
    try:
        body = strict_loads(request.body)
    except (ValueError, RecursionError):
        raise HttpError(422, f"invalid JSON: {SHAPE}") from None
    if not isinstance(body, dict) or set(body) != {"cancel_key"}:
        raise HttpError(422, SHAPE)
    problem = cancel_key_problem(body["cancel_key"])
    if problem:
        raise HttpError(422, problem)
    return {"cancelled": cancel(request.auth.tenant_id, body["cancel_key"])}
