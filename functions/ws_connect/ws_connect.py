"""WebSocket $connect: remember the connection and whose organisation it belongs to.

The authorizer has checked the caller's token; following imports needs the same capability as
managing them."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.access import IMPORT_MANAGE, Forbidden, Unauthenticated, caller_from_claims
from customer_import.adapters.events import WebSocketEvent
from customer_import.adapters.wiring import components_for
from customer_import.settings import Settings

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=WebSocketEvent)
def handler(event: WebSocketEvent, context: LambdaContext) -> dict[str, Any]:
    context = event.request_context.authorizer
    try:
        caller = caller_from_claims(context.claims() if context else None)
        caller.require(IMPORT_MANAGE)
    except Unauthenticated:
        return {"statusCode": 401, "body": "Unauthorised"}
    except Forbidden as refused:
        return {"statusCode": 403, "body": str(refused)}
    components_for(Settings.from_env()).connections.add(
        event.request_context.connection_id, caller.org_id, caller.user_id
    )
    return {"statusCode": 200}
