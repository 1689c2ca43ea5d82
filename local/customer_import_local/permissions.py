"""Seam O: while a handler runs, each AWS request it makes is allowed only by its function's
grants, as its role allows it on AWS; anything else is refused with AWS's own error.

The invoker names the running function in a context variable, so requests made by other threads
(other handlers', Step Functions' interpreter, the test process, the CLI) are judged by their
own caller, or not at all when no handler makes them.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from moto.core.botocore_stubber import MockRawResponse

from infra.description import Grants, Statement

log = logging.getLogger("customer_import_local.permissions")


@dataclass(frozen=True)
class Caller:
    """The function whose handler is running, with its role's name and what the stack calls
    each of its tables and buckets (physical name -> logical name)."""

    function_name: str
    grants: Grants
    account: str
    region: str
    tables: dict[str, str]
    buckets: dict[str, str]

    @functools.cached_property
    def statements(self) -> tuple[Statement, ...]:
        """Its role's statements, built once: every request a handler makes is checked."""
        return self.grants.statements()

    @property
    def principal(self) -> str:
        return (
            f"arn:aws:sts::{self.account}:assumed-role/{self.function_name}-role/"
            f"{self.function_name}"
        )


_caller: ContextVar[Caller | None] = ContextVar("customer_import_local_caller", default=None)


@contextlib.contextmanager
def acting_as(caller: Caller) -> Iterator[None]:
    """Requests made in this context are the caller's."""
    token = _caller.set(caller)
    try:
        yield
    finally:
        _caller.reset(token)


@dataclass(frozen=True)
class Access:
    """One IAM action on one resource of the description, and its ARN for the refusal."""

    action: str
    kind: str
    name: str = ""
    resource: str = ""
    arn: str = "*"


def allows(statements: tuple[Statement, ...], access: Access) -> bool:
    """IAM's wildcards: `*` any characters (`/` included), `?` one."""
    return any(
        access.action in statement.actions
        and statement.kind == access.kind
        and statement.name == access.name
        and (
            not statement.resources
            or any(fnmatchcase(access.resource, pattern) for pattern in statement.resources)
        )
        for statement in statements
    )


# ---- requests -> accesses ------------------------------------------------------------------

# A transaction's parts each need the action of the request they stand for.
_TRANSACTION_PARTS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
# S3 operations on one object -> the action IAM checks.
_OBJECT_ACTIONS = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "DeleteObject": "s3:DeleteObject",
}


def _dynamodb(caller: Caller, operation: str, body: dict[str, Any]) -> list[Access]:
    def on(action: str, table: str, index: str | None = None) -> Access:
        arn = f"arn:aws:dynamodb:{caller.region}:{caller.account}:table/{table}"
        logical = caller.tables.get(table, f"?{table}")
        if index:
            return Access(f"dynamodb:{action}", "index", logical, index, f"{arn}/index/{index}")
        return Access(f"dynamodb:{action}", "table", logical, arn=arn)

    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [on(operation, table) for table in body.get("RequestItems") or {}]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [
            on(_TRANSACTION_PARTS[part], request["TableName"])
            for item in body.get("TransactItems") or []
            for part, request in item.items()
        ]
    return [on(operation, body.get("TableName", "*"), body.get("IndexName"))]


def _s3(caller: Caller, operation: str, request: AWSPreparedRequest) -> list[Access]:
    bucket, _, key = unquote(urlsplit(request.url).path).lstrip("/").partition("/")
    arn = f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}"
    action = _OBJECT_ACTIONS.get(operation, f"s3:{operation}")
    return [Access(action, "objects", caller.buckets.get(bucket, f"?{bucket}"), key, arn)]


def _states(caller: Caller, operation: str, body: dict[str, Any]) -> list[Access]:
    arn = body.get("stateMachineArn") or body.get("executionArn") or "*"
    kind = "executions" if "executionArn" in body else "state_machine"
    # arn:aws:states:{region}:{account}:stateMachine:{machine} or :execution:{machine}:{name}
    # (a Map Run's child: {machine}/{map run}); a task token names no machine.
    parts = arn.split(":")
    machine = parts[6].split("/")[0] if len(parts) > 6 else ""
    return [Access(f"states:{operation}", kind, machine, arn=arn)]


def _events(caller: Caller, body: dict[str, Any]) -> list[Access]:
    """PutEvents on each entry's bus (named, or by ARN; none: the default bus)."""
    accesses = []
    for entry in body.get("Entries") or []:
        bus = str(entry.get("EventBusName") or "default").rsplit("/", 1)[-1]
        arn = f"arn:aws:events:{caller.region}:{caller.account}:event-bus/{bus}"
        accesses.append(Access("events:PutEvents", "event_bus", bus, arn=arn))
    return accesses


def _management(caller: Caller, request: AWSPreparedRequest) -> list[Access]:
    path = unquote(urlsplit(request.url).path)
    arn = f"arn:aws:execute-api:{caller.region}:{caller.account}:*/*/{request.method}{path}"
    return [Access("execute-api:ManageConnections", "connections", arn=arn)]


def _accesses(
    caller: Caller, service: str, operation: str, request: AWSPreparedRequest
) -> list[Access]:
    if service == "s3":
        return _s3(caller, operation, request)
    if service == "apigatewaymanagementapi":
        return _management(caller, request)
    body = (
        json.loads(request.body or b"{}") if service in ("dynamodb", "sfn", "eventbridge") else {}
    )
    if service == "dynamodb":
        return _dynamodb(caller, operation, body)
    if service == "sfn":
        return _states(caller, operation, body)
    if service == "eventbridge" and operation == "PutEvents":
        return _events(caller, body)
    # No grant allows anything of another service (Lambda, IAM, SQS...).
    return [Access(f"{service}:{operation}", service)]


# ---- refusals, as each service words them ----------------------------------------------------


def refusal(event_name: str, request: AWSPreparedRequest) -> AWSResponse | None:
    """AWS's answer to a request the running handler's role does not allow; None when it
    does, or when no handler is running."""
    caller = _caller.get()
    if caller is None:
        return None
    _, service, operation = event_name.split(".", 2)
    for access in _accesses(caller, service, operation, request):
        if not allows(caller.statements, access):
            # Said here too: a handler may catch the error and go on, as it would on AWS.
            log.warning("%s may not %s on %s", caller.function_name, access.action, access.arn)
            return _refused(caller, service, access, request)
    return None


def _refused(
    caller: Caller, service: str, access: Access, request: AWSPreparedRequest
) -> AWSResponse:
    message = (
        f"User: {caller.principal} is not authorized to perform: {access.action} on resource: "
        f"{access.arn} because no identity-based policy allows the {access.action} action"
    )
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id}
    if service == "s3":
        body = (
            "<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>AccessDenied</Code>"
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        )
        if request.method == "HEAD":  # a HEAD answer has no body to say more
            body = ""
        headers["Content-Type"] = "application/xml"
        return _response(request, 403, headers, body)
    if service in ("dynamodb", "sfn", "eventbridge"):
        # JSON protocols: 1.0 for DynamoDB and Step Functions, 1.1 for EventBridge
        headers["Content-Type"] = (
            "application/x-amz-json-1.1"
            if service == "eventbridge"
            else "application/x-amz-json-1.0"
        )
        error = {"__type": "com.amazon.coral.service#AccessDeniedException"}
        return _response(request, 400, headers, json.dumps({**error, "Message": message}))
    headers.update(
        {"Content-Type": "application/json", "x-amzn-ErrorType": "AccessDeniedException"}
    )
    return _response(request, 403, headers, json.dumps({"Message": message}))


def _response(
    request: AWSPreparedRequest, status: int, headers: dict[str, str], body: str
) -> AWSResponse:
    return AWSResponse(request.url, status, headers, MockRawResponse(body))  # type: ignore[arg-type]
