"""Seam O: a handler's requests are allowed by its function's grants only, as its role allows
them on AWS, and anything else is refused with AWS's error; requests made outside any handler
(this test process, the CLI) are not restricted."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from customer_import_local.permissions import acting_as
from customer_import_local.stack import ACCOUNT_ID, bucket_name, function_name, table_name

from infra.description import DESCRIPTION


def _as(stack, function: str):  # type: ignore[no-untyped-def]
    """The context a handler of `function` runs in: its requests are that function's."""
    name = function_name(DESCRIPTION.function(function))
    return acting_as(stack._callers()[name])


def _refusal(call) -> dict:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return {
        "code": response["Error"]["Code"],
        "message": response["Error"].get("Message", ""),
        "status": response["ResponseMetadata"]["HTTPStatusCode"],
    }


def _role(function: str) -> str:
    name = function_name(DESCRIPTION.function(function))
    return f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{name}-role/{name}"


def test_a_dynamodb_write_outside_the_grants_is_refused_as_aws_refuses_it(stack, org) -> None:
    # Given ws_connect, which may put connections and nothing else
    customers = table_name("customers")
    item = {"org_id": {"S": org}, "customer_id": {"S": "c1"}}
    # When its handler puts a customer
    with _as(stack, "ws_connect"):
        refusal = _refusal(
            lambda: boto3.client("dynamodb").put_item(TableName=customers, Item=item)
        )
    # Then DynamoDB's AccessDeniedException names the role, the action and the table
    assert refusal == {
        "code": "AccessDeniedException",
        "status": 400,
        "message": (
            f"User: {_role('ws_connect')} is not authorized to perform: dynamodb:PutItem on "
            f"resource: arn:aws:dynamodb:eu-west-2:{ACCOUNT_ID}:table/{customers} because no "
            "identity-based policy allows the dynamodb:PutItem action"
        ),
    }
    # And nothing was written
    stored = boto3.client("dynamodb").get_item(TableName=customers, Key=item)
    assert "Item" not in stored


def test_each_part_of_a_transaction_and_each_index_needs_its_own_grant(stack, org) -> None:
    # Given import_batch, which may update jobs and put batch records, but not delete them
    jobs, batches = table_name("jobs"), table_name("job_batches")
    transaction = [
        {"Put": {"TableName": batches, "Item": {"job_id": {"S": org}, "batch_id": {"S": "b1"}}}},
        {"Delete": {"TableName": batches, "Key": {"job_id": {"S": org}, "batch_id": {"S": "b0"}}}},
    ]
    dynamodb = boto3.client("dynamodb")
    with _as(stack, "import_batch"):
        # When its transaction deletes a batch record beside its put
        deleting = _refusal(lambda: dynamodb.transact_write_items(TransactItems=transaction))
        # And it queries the jobs through an index it was not granted
        querying = _refusal(
            lambda: dynamodb.query(
                TableName=jobs,
                IndexName="by_created",
                KeyConditionExpression="org_id = :org",
                ExpressionAttributeValues={":org": {"S": org}},
            )
        )
    # Then the delete is refused, naming its action, and the query, naming the index
    assert deleting["code"] == "AccessDeniedException"
    assert (
        f"dynamodb:DeleteItem on resource: arn:aws:dynamodb:eu-west-2:{ACCOUNT_ID}:table/"
        in (deleting["message"])
    )
    assert querying["message"].startswith(f"User: {_role('import_batch')} is not authorized")
    assert f"table/{jobs}/index/by_created because" in querying["message"]
    # And the transaction's put did not happen either
    key = {"job_id": {"S": org}, "batch_id": {"S": "b1"}}
    assert "Item" not in dynamodb.get_item(TableName=batches, Key=key)


def test_objects_are_allowed_by_key_pattern_only(stack, org) -> None:
    # Given import_batch, which reads staging/* and writes a batch's failures only
    bucket = bucket_name("uploads")
    s3 = boto3.client("s3")
    s3.put_object(Bucket=bucket, Key=f"uploads/{org}/file.csv", Body=b"a,b\n")
    with _as(stack, "import_batch"):
        # When it writes its failures, and then a batch of its own, and reads an upload
        s3.put_object(Bucket=bucket, Key=f"staging/{org}/job/failures/b1.json", Body=b"[]")
        writing = _refusal(
            lambda: s3.put_object(Bucket=bucket, Key=f"staging/{org}/job/b1.json", Body=b"[]")
        )
        reading = _refusal(lambda: s3.head_object(Bucket=bucket, Key=f"uploads/{org}/file.csv"))
    # Then only the failures were written; the others are S3's 403 AccessDenied
    assert writing["status"] == reading["status"] == 403
    assert writing["code"] == "AccessDenied"
    assert writing["message"] == (
        f"User: {_role('import_batch')} is not authorized to perform: s3:PutObject on "
        f"resource: arn:aws:s3:::{bucket}/staging/{org}/job/b1.json because no "
        "identity-based policy allows the s3:PutObject action"
    )
    s3.head_object(Bucket=bucket, Key=f"staging/{org}/job/failures/b1.json")
    assert _refusal(lambda: s3.head_object(Bucket=bucket, Key=f"staging/{org}/job/b1.json"))


def test_executions_and_pushes_need_their_grants(stack, org) -> None:
    # Given import_batch, which neither starts executions nor answers tasks, and ws_connect,
    # which never pushes
    machine = stack.endpoints.state_machine_arn
    with _as(stack, "import_batch"):
        # When they try
        starting = _refusal(
            lambda: boto3.client("stepfunctions").start_execution(
                stateMachineArn=machine, name=f"{org}_{uuid.uuid4().hex}", input="{}"
            )
        )
    with _as(stack, "ws_connect"):
        pushing = _refusal(
            lambda: boto3.client(
                "apigatewaymanagementapi",
                endpoint_url=stack.endpoints.environment["WEBSOCKET_MANAGEMENT_ENDPOINT"],
            ).post_to_connection(ConnectionId="gone", Data=b"{}")
        )
    # Then Step Functions and the management API refuse, as for a role without the grant
    assert (starting["code"], starting["status"]) == ("AccessDeniedException", 400)
    assert f"states:StartExecution on resource: {machine} because" in starting["message"]
    assert (pushing["code"], pushing["status"]) == ("AccessDeniedException", 403)
    assert "execute-api:ManageConnections" in pushing["message"]
    # And no execution was started
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=machine)
    assert not [e for e in executions["executions"] if e["name"].startswith(org)]


def test_a_real_handler_invoked_through_lambda_is_held_to_its_grants(
    stack, org, monkeypatch
) -> None:
    # Given the sweep of stuck jobs, made to write a customer (it may touch jobs and audit)
    import customer_import.stuck_jobs as stuck_jobs

    def write_a_customer(self):  # type: ignore[no-untyped-def]
        boto3.client("dynamodb").put_item(
            TableName=table_name("customers"),
            Item={"org_id": {"S": org}, "customer_id": {"S": "c1"}},
        )

    monkeypatch.setattr(stuck_jobs.StuckJobSweeper, "sweep", write_a_customer)
    # When Lambda invokes its real handler
    response = boto3.client("lambda").invoke(
        FunctionName=function_name(DESCRIPTION.function("sweep_stuck_jobs")), Payload=b"{}"
    )
    error = json.loads(response["Payload"].read())
    # Then its request was refused as on AWS, and the handler failed with it
    assert response.get("FunctionError")
    assert error["errorType"] == "ClientError"
    assert "AccessDeniedException" in error["errorMessage"]
    assert "dynamodb:PutItem" in error["errorMessage"]


def test_requests_outside_any_handler_are_not_restricted(stack, org) -> None:
    # Given no handler running (this test process, as the CLI or the benchmark's floor)
    customers = table_name("customers")
    item = {"org_id": {"S": org}, "customer_id": {"S": "c1"}}
    # When it writes where no function may
    boto3.client("dynamodb").put_item(TableName=customers, Item=item)
    # Then it was written
    assert "Item" in boto3.client("dynamodb").get_item(TableName=customers, Key=item)


def test_a_handler_result_over_lambda_s_6_mb_fails_its_invocation_as_lambda_does(
    stack, monkeypatch
) -> None:
    # Given the sweep of stuck jobs, made to answer 7 MB
    import customer_import.stuck_jobs as stuck_jobs

    monkeypatch.setattr(stuck_jobs.SweepResult, "to_dict", lambda self: {"x": "a" * 7_000_000})
    # When Lambda invokes its real handler
    response = boto3.client("lambda").invoke(
        FunctionName=function_name(DESCRIPTION.function("sweep_stuck_jobs")), Payload=b"{}"
    )
    error = json.loads(response["Payload"].read())
    # Then the invocation failed as Lambda fails it, naming the limit (moto's Invoke checks it,
    # and seam A answers through it)
    assert response.get("FunctionError")
    assert error["errorType"] == "Function.ResponseSizeTooLarge"
    assert "6291556 bytes" in error["errorMessage"]
