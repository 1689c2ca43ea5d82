"""WebSocket `subscribe`: follow one job of the caller's organisation; its state comes at once."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.adapters.events import SubscribeMessage, WebSocketEvent
from customer_import.adapters.wiring import components_for
from customer_import.progress import subscribe
from customer_import.settings import Settings
from pydantic import ValidationError

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=WebSocketEvent)
def handler(event: WebSocketEvent, context: LambdaContext) -> dict[str, Any]:
    caller = event.request_context.authorizer
    if caller is None:
        return {"statusCode": 401, "body": "Unauthorised"}
    try:
        message = SubscribeMessage.model_validate_json(event.body or "")
    except ValidationError:
        return {"statusCode": 400, "body": 'Expected {"action": "subscribe", "job_id": "..."}'}
    components = components_for(Settings.from_env())
    result = subscribe(
        components.jobs,
        components.broadcaster,
        event.request_context.connection_id,
        caller.org_id,
        message.job_id,
    )
    # Another organisation's job is answered exactly like a job that does not exist.
    return {"statusCode": 200 if result["ok"] else 404, "body": result.get("error", "subscribed")}
