
from typing import Any

from ninja import Body, Router
from ninja.errors import HttpError

from notifications.api.auth import TenantRequest
from notifications.api.schemas import EventsOut
from notifications.events.decoding import strict_loads
from notifications.intake.service import process_events

router = Router(tags=["events"])
MAX_BATCH = 1000


@router.post("", response=EventsOut, summary="Publish one event or a batch")
def post_events(request: TenantRequest, body: Any = Body(..., description="An event object or a list of them")):
    """Same validation and intake as the Kafka consumer. `tenant_id` may be left out (the key's tenant is
    used); naming another tenant is refused. Each event gets its own result: processed, duplicate, or
    rejected with a reason."""
    tenant_id = request.auth.tenant_id
    # The body read again the exact way, as the consumer reads a message: a repeated key (`"amount": 1,
    # "amount": 100000`) or a number that is not finite is refused, not taken with whichever value won.
    try:
        body = strict_loads(request.body)
    except (ValueError, RecursionError) as err:
        reason = str(err) if not isinstance(err, RecursionError) else "nested too deeply"
        raise HttpError(422, f"invalid JSON: {reason[:200]}") from None
    events = body if isinstance(body, list) else [body]
    if not events or len(events) > MAX_BATCH:
        raise HttpError(422, f"send between 1 and {MAX_BATCH} events")
    prepared = []
    for event in events:
        # Only objects: a string would be decoded later, past this tenant check.
        if not isinstance(event, dict):
            raise HttpError(422, "each event must be a JSON object")
        named = event.get("tenant_id")
        if named not in (None, "", tenant_id):
            raise HttpError(403, "an event names another tenant than the API key's")
        prepared.append({**event, "tenant_id": tenant_id})
    results = process_events(prepared, source="api")
    return {"results": [result.as_dict() for result in results]}
