"""WebSocket $connect: remember the connection and whose organisation it belongs to."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.adapters.events import WebSocketEvent
from customer_import.adapters.wiring import components_for
from customer_import.settings import Settings

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=WebSocketEvent)
def handler(event: WebSocketEvent, context: LambdaContext) -> dict[str, Any]:
    caller = event.request_context.authorizer
    if caller is None:
        return {"statusCode": 401, "body": "Unauthorised"}
    components_for(Settings.from_env()).connections.add(
        event.request_context.connection_id, caller.org_id, caller.user_id
    )
    return {"statusCode": 200}
