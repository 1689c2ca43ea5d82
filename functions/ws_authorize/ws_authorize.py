"""WebSocket $connect authorizer: the caller's bearer token (`?token=`, since browsers cannot
set headers on a WebSocket; or an `Authorization: Bearer` header) becomes the caller that
the WebSocket handlers read from `requestContext.authorizer`.

A WebSocket API cannot use API Gateway's JWT authorizer, so this REQUEST authorizer checks
the same user-pool tokens the HTTP API accepts. An invalid token raises `Unauthorized`, which
API Gateway answers with 401; capabilities are checked by `$connect` itself.
"""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.access import Unauthenticated, caller_from_claims
from customer_import.adapters.tokens import TokenSettings, verifier_for

logger = Logger()
tracer = Tracer()


class Unauthorized(Exception):
    """API Gateway answers 401 when a Lambda authorizer raises with exactly this message."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict[str, Any]:
    token = (event.query_string_parameters or {}).get("token") or _bearer(
        event.headers.get("authorization") or ""
    )
    try:
        caller = caller_from_claims(verifier_for(TokenSettings.from_env()).claims(token))
    except Unauthenticated as refused:
        logger.info("Connection refused", extra={"reason": str(refused)})
        raise Unauthorized() from None
    return {
        "principalId": caller.user_id,
        "policyDocument": {
            "Version": "2012-10-17",
            # Exactly this connection request: the only route a WebSocket authorizer guards.
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event.method_arn}
            ],
        },
        # An authorizer's context holds strings only.
        "context": {
            "org_id": caller.org_id,
            "user_id": caller.user_id,
            "capabilities": " ".join(sorted(caller.capabilities)),
        },
    }


def _bearer(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
