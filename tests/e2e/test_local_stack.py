"""What the embedded stack does so that an import is measured warm: shared clients, handlers
imported at start, requests answered in process, a Query reading its partition only, stored
items kept packed (seams F, H, I and J and the warm-up in `customer_import_local.stack`)."""

from __future__ import annotations

import sys

from tests.unit.techman_files import customers, techman_csv


def test_every_handler_is_imported_when_the_stack_starts(stack) -> None:
    # Given a started stack (before any event reached a function)
    from infra.description import DESCRIPTION

    # Then every handler module is loaded, as a warm Lambda container's would be
    modules = {spec.handler.rsplit(".", 1)[0] for spec in DESCRIPTION.functions}
    assert modules <= set(sys.modules)


def test_step_functions_builds_its_lambda_client_once(driver, org) -> None:
    # Given an import whose Map ran several Lambda tasks
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    job = driver.run(org, techman_csv(customers(250)))
    assert job.status == "completed"
    # When moto's interpreter asks for a Lambda client again
    first = lambda_eval_utils.boto_client_for(region="eu-west-2", service="lambda")
    again = lambda_eval_utils.boto_client_for(region="eu-west-2", service="lambda")
    # Then it gets the one it was given before, not a new one per task
    assert first is again


def test_large_objects_are_kept_on_disk_not_in_the_process(stack) -> None:
    # Given the local S3
    import boto3
    from moto.s3.models import s3_backends

    # When an object over 64 KiB and a small one are stored (staged batches are ~230 KB)
    s3 = boto3.client("s3")
    s3.put_object(Bucket=stack.endpoints.bucket, Key="staging/t/big.json", Body=b"x" * 100_000)
    s3.put_object(Bucket=stack.endpoints.bucket, Key="staging/t/small.json", Body=b"{}")
    # Then the large one went to a temporary file and reads back whole; the small one stayed
    bucket = s3_backends["123456789012"]["aws"].buckets[stack.endpoints.bucket]
    assert bucket.keys["staging/t/big.json"]._value_buffer._rolled
    assert not bucket.keys["staging/t/small.json"]._value_buffer._rolled
    body = s3.get_object(Bucket=stack.endpoints.bucket, Key="staging/t/big.json")["Body"].read()
    assert body == b"x" * 100_000


def test_this_process_reaches_the_stack_without_a_socket(stack, monkeypatch) -> None:
    # Given a stack, and no way for botocore to send anything over HTTP
    import boto3
    import botocore.httpsession

    def no_socket(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("sent over HTTP")

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", no_socket)
    # When this process asks DynamoDB, S3 and Step Functions
    tables = boto3.client("dynamodb").list_tables()["TableNames"]
    s3 = boto3.client("s3")
    s3.put_object(Bucket=stack.endpoints.bucket, Key="staging/t/in-process.json", Body=b"{}")
    body = s3.get_object(Bucket=stack.endpoints.bucket, Key="staging/t/in-process.json")["Body"]
    machines = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
    # Then moto answered them in this process, from the stack's own backends
    assert any(name.endswith("-jobs") for name in tables)
    assert body.read() == b"{}"
    assert [m["stateMachineArn"] for m in machines] == [stack.endpoints.state_machine_arn]


def test_an_import_reaches_aws_services_without_a_socket(driver, org, monkeypatch) -> None:
    # Given no way for botocore to send anything over HTTP, in any thread
    import botocore.httpsession

    sent: list[str] = []

    def no_socket(_session: object, request: object) -> None:
        sent.append(request.url)  # type: ignore[attr-defined]
        raise AssertionError("sent over HTTP")

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", no_socket)
    # When a file is imported (the upload itself is a browser's POST, not botocore's)
    job = driver.run(org, techman_csv(customers(150)))
    # Then the handlers, the events and Step Functions' Lambda tasks were answered in process
    assert job.status == "completed"
    assert job.counter("imported") == 150
    assert sent == []


def test_the_models_load_dynamodb_s_service_model_once(stack) -> None:
    # Given a started stack, whose warm-up bound the models and built their clients
    from customer_import.adapters import dynamo

    models = [dynamo.JobModel, dynamo.BatchModel, dynamo.CustomerModel, dynamo.VehicleModel]
    clients = [model._get_connection().connection.client for model in models]
    # Then they come from one botocore session: one copy of DynamoDB's service description,
    # not one per model (≈ 8 MiB each)
    descriptions = {id(c.meta.service_model._service_description) for c in clients}
    assert len(descriptions) == 1


def test_a_query_on_the_table_key_answers_from_its_partition_as_dynamodb_does(stack) -> None:
    # Given customers of two organisations in one table
    import boto3
    from customer_import.adapters.dynamo import CustomerModel

    dynamodb = boto3.client("dynamodb")
    table = CustomerModel.Meta.table_name
    for org, ids in (("org-q1", ["c", "a", "d", "b"]), ("org-q2", ["a", "e"])):
        for customer_id in ids:
            dynamodb.put_item(
                TableName=table, Item={"org_id": {"S": org}, "customer_id": {"S": customer_id}}
            )

    def page(**extra: object) -> dict:
        return dynamodb.query(
            TableName=table,
            KeyConditionExpression="org_id = :org",
            ExpressionAttributeValues={":org": {"S": "org-q1"}},
            ScanIndexForward=False,
            Limit=3,
            **extra,
        )

    # When one organisation's customers are read, newest key first, three at a time
    first = page()
    second = page(ExclusiveStartKey=first["LastEvaluatedKey"])
    # Then only its own come back, in key order, across pages; an unknown one has none
    ids = [i["customer_id"]["S"] for i in first["Items"] + second["Items"]]
    assert ids == ["d", "c", "b", "a"]
    assert "LastEvaluatedKey" not in second
    none = dynamodb.query(
        TableName=table,
        KeyConditionExpression="org_id = :org",
        ExpressionAttributeValues={":org": {"S": "org-nobody"}},
    )
    assert none["Items"] == []


def _stored(table: str, org: str, customer_id: str) -> object:
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    tables = dynamodb_backends["123456789012"]["eu-west-2"].tables
    return tables[table].items[DynamoType({"S": org})][DynamoType({"S": customer_id})]


def test_a_stored_item_is_kept_packed_and_reads_back_as_it_was_written(stack) -> None:
    # Given an item with every kind of attribute, written as the imports write theirs
    import boto3
    from customer_import.adapters.dynamo import CustomerModel

    dynamodb = boto3.client("dynamodb")
    table = CustomerModel.Meta.table_name
    key = {"org_id": {"S": "org-p"}, "customer_id": {"S": "c1"}}
    item = key | {
        "name": {"S": "Zoë O'Brien"},
        "mileage": {"N": "12.50"},
        "active": {"BOOL": False},
        "nothing": {"NULL": True},
        "prefs": {"M": {"sms": {"L": [{"S": "x"}, {"N": "1"}, {"BOOL": True}]}}},
        "tags": {"SS": ["a", "b"]},
        "raw": {"B": b"\x00\x01"},
    }
    dynamodb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item}}]})
    # Then moto holds it as one packed value, not as an object per attribute
    assert hasattr(_stored(table, "org-p", "c1"), "_packed")
    # When it is read, updated in place, and read again
    first = dynamodb.get_item(TableName=table, Key=key)["Item"]
    dynamodb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET mileage = mileage + :more REMOVE tags",
        ExpressionAttributeValues={":more": {"N": "1"}},
    )
    again = dynamodb.get_item(TableName=table, Key=key)["Item"]
    # Then the first read is what was written, and the update stayed
    assert first == item
    assert again == {k: v for k, v in item.items() if k != "tags"} | {"mileage": {"N": "13.50"}}
