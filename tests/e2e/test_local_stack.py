"""What the embedded stack does so that an import is measured warm: shared clients, handlers
imported at start, requests answered in process, a Query reading its partition only, an index
Query paging by its entries, stored items kept packed, URL maps and paths built once (seams F,
H, I, Q, J, V and W and the warm-up in `customer_import_local.stack`), and a Query stopped at
its limit saying where, as DynamoDB does (seam X)."""

from __future__ import annotations

import sys
import uuid
from typing import Any

from tests.unit.techman_files import customers, techman_csv


def test_every_handler_is_imported_when_the_stack_starts(stack) -> None:
    # Given a started stack (before any event reached a function)
    from infra.description import DESCRIPTION

    # Then every handler module is loaded, as a warm Lambda container's would be
    modules = {spec.handler.rsplit(".", 1)[0] for spec in DESCRIPTION.functions}
    assert modules <= set(sys.modules)


def test_step_functions_shares_clients_built_as_the_stack_started(driver, org) -> None:
    # Given a started stack, whose Lambda and S3 clients for Step Functions are built already
    from customer_import_local import seams
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import (
        resource_eval_s3 as item_reader_s3,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
        resource_eval_s3 as result_writer_s3,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import json_path

    built = dict(seams._shared_clients)
    assert {("eu-west-2", "lambda"), ("eu-west-2", "s3")} <= built.keys()
    parsed = json_path.parse.cache_info().hits
    # When an import runs its Map of several Lambda tasks, reading its manifest from S3
    job = driver.run(org, techman_csv(customers(250)))
    assert job.status == "completed"
    # Then its tasks, its item reader and its result writer use the clients built at start
    lambda_client, s3_client = built[("eu-west-2", "lambda")], built[("eu-west-2", "s3")]
    assert lambda_eval_utils.boto_client_for(region="eu-west-2", service="lambda") is lambda_client
    for module in (item_reader_s3, result_writer_s3):
        assert module.boto_client_for(region="eu-west-2", service="s3") is s3_client
    # And the states' paths were parsed once and read from then on (seam W)
    assert json_path.parse.cache_info().hits > parsed


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


def test_a_service_s_url_map_is_built_once_until_its_settings_change(stack, monkeypatch) -> None:
    # Given the local S3, asked once already, and a count of moto's reloads of its URL module
    import boto3
    from moto.s3 import models as s3_models
    from moto.s3.models import s3_backends

    s3 = boto3.client("s3")
    s3.put_object(Bucket=stack.endpoints.bucket, Key="staging/t/url.json", Body=b"{}")
    reloads = []
    real_reload = s3_models.reload
    monkeypatch.setattr(s3_models, "reload", lambda m: reloads.append(m) or real_reload(m))
    # When it is asked again
    s3.put_object(Bucket=stack.endpoints.bucket, Key="staging/t/url.json", Body=b"{}")
    s3.get_object(Bucket=stack.endpoints.bucket, Key="staging/t/url.json")
    # Then it answers from the map it built, without reloading the module
    assert reloads == []
    # And a custom endpoint set in the environment is in the map built for the next request
    monkeypatch.setenv("MOTO_S3_CUSTOM_ENDPOINTS", "https://s3.example.test")
    s3.get_object(Bucket=stack.endpoints.bucket, Key="staging/t/url.json")
    assert reloads
    urls = s3_backends["123456789012"]["aws"].urls
    assert any(url.startswith("https://s3.example.test") for url in urls)


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
    assert sorted(m["stateMachineArn"] for m in machines) == [
        stack.endpoints.state_machine_arn,
        stack.endpoints.rollback_state_machine_arn,
    ]


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


def test_an_index_query_pages_by_the_entries_the_index_holds_as_dynamodb_does(stack) -> None:
    # Given 30 live customers of one account, each item 100 KB (3 MB in all), of which the
    # account index projects a few short attributes
    import boto3
    from customer_import.adapters.dynamo import CustomerModel

    dynamodb = boto3.client("dynamodb")
    table = CustomerModel.Meta.table_name
    for n in range(30):
        dynamodb.put_item(
            TableName=table,
            Item={
                "org_id": {"S": "org-ix"},
                "customer_id": {"S": f"c{n:02}"},
                "live_org": {"S": "org-ix"},
                "live_key": {"S": f"north#c{n:02}"},
                "external_customer_number": {"S": str(n)},
                "version": {"N": "1"},
                "notes": {"S": "x" * 100_000},
            },
        )
    dynamodb.put_item(  # not in the sparse index
        TableName=table, Item={"org_id": {"S": "org-ix"}, "customer_id": {"S": "binned"}}
    )

    # When the account's customers are read from the index
    page = dynamodb.query(
        TableName=table,
        IndexName="live_by_org",
        KeyConditionExpression="live_org = :org AND begins_with(live_key, :account)",
        ExpressionAttributeValues={":org": {"S": "org-ix"}, ":account": {"S": "north#"}},
    )

    # Then one page holds them all (1 MB counts index entries, not whole items), in key
    # order, each with the index's attributes only
    assert "LastEvaluatedKey" not in page
    assert [i["customer_id"]["S"] for i in page["Items"]] == [f"c{n:02}" for n in range(30)]
    assert set(page["Items"][0]) == {
        "org_id",
        "customer_id",
        "live_org",
        "live_key",
        "external_customer_number",
        "version",
    }


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


# ---- seams M and N: what AWS refuses, the local stack refuses, for every client ------------

_OTHER_PROCESS = """
import json, sys
import boto3
from botocore.exceptions import ClientError

request = json.loads(sys.argv[1])
client = boto3.client(request.pop("service"))
try:
    getattr(client, request.pop("operation"))(**request)
    print(json.dumps({"ok": True}))
except ClientError as exc:
    print(json.dumps({"code": exc.response["Error"]["Code"],
                      "message": exc.response["Error"].get("Message", ""),
                      "status": exc.response["ResponseMetadata"]["HTTPStatusCode"]}))
"""


def _from_another_process(service: str, operation: str, **request: object) -> dict:
    """The answer a client in another process (the CLI against `local up`) gets over HTTP."""
    import json
    import subprocess

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _OTHER_PROCESS,
            json.dumps(request | {"service": service, "operation": operation}),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def _in_this_process(service: str, operation: str, **request: object) -> dict:
    import boto3
    from botocore.exceptions import ClientError

    try:
        getattr(boto3.client(service), operation)(**request)
    except ClientError as exc:
        error = exc.response["Error"]
        return {
            "code": error["Code"],
            "message": error.get("Message", ""),
            "status": exc.response["ResponseMetadata"]["HTTPStatusCode"],
        }
    return {"ok": True}


def _match_keys_table() -> str:
    from customer_import_local.stack import table_name

    return table_name("customer_match_keys")


def _key(match_key: str, customer_id: str = "c1") -> dict:
    return {
        "match_key": {"S": match_key},
        "org_id": {"S": "org-k"},
        "customer_id": {"S": customer_id},
    }


def test_a_batch_write_naming_one_key_twice_is_refused_as_dynamodb_does(stack) -> None:
    # Given two items with the same key and different attributes (moto alone takes them)
    table = _match_keys_table()
    request = {
        "RequestItems": {
            table: [
                {"PutRequest": {"Item": _key("org-k#name:ann car", "c1")}},
                {"PutRequest": {"Item": _key("org-k#name:ann car", "c2")}},
            ]
        }
    }
    for send in (_in_this_process, _from_another_process):
        # When they are sent in one BatchWriteItem, from this process and from another
        answer = send("dynamodb", "batch_write_item", **request)
        # Then DynamoDB's ValidationException refuses the whole request
        assert answer == {
            "code": "ValidationException",
            "message": "Provided list of item keys contains duplicates",
            "status": 400,
        }, send.__name__
    import boto3

    stored = boto3.client("dynamodb").get_item(
        TableName=table, Key={"match_key": {"S": "org-k#name:ann car"}}
    )
    assert "Item" not in stored


def test_keys_over_dynamodb_s_limits_are_refused_in_every_request(stack) -> None:
    # Given a partition key of 2,049 bytes, and a sort key of 1,025
    from customer_import_local.stack import table_name

    long_key = {"match_key": {"S": "k" * 2049}}
    customer_key = {"org_id": {"S": "org-k"}, "customer_id": {"S": "é" * 513}}  # 1,026 bytes
    requests = [
        ("batch_get_item", {"RequestItems": {_match_keys_table(): {"Keys": [long_key]}}}),
        ("get_item", {"TableName": _match_keys_table(), "Key": long_key}),
        ("put_item", {"TableName": _match_keys_table(), "Item": long_key}),
        ("delete_item", {"TableName": table_name("customers"), "Key": customer_key}),
    ]
    for operation, request in requests:
        for send in (_in_this_process, _from_another_process):
            # When a request names it
            answer = send("dynamodb", operation, **request)
            # Then DynamoDB refuses it, saying which limit
            assert (answer["code"], answer["status"]) == ("ValidationException", 400), operation
            assert "2048 bytes" in answer["message"] or "1024 bytes" in answer["message"]


def _customer_puts(org: str, count: int, name: str) -> list[dict]:
    """A transaction's puts of `count` customers of `org`, each with this name."""
    from customer_import_local.stack import table_name

    return [
        {
            "Put": {
                "TableName": table_name("customers"),
                "Item": {
                    "org_id": {"S": org},
                    "customer_id": {"S": f"c{n}"},
                    "name": {"S": name},
                },
            }
        }
        for n in range(count)
    ]


def test_a_transaction_over_4_mb_is_refused(stack) -> None:
    # Given eleven items of about 390 KB each, each under the item limit
    items = _customer_puts("org-k", 11, "x" * 390_000)
    # When they are written in one transaction
    answer = _in_this_process("dynamodb", "transact_write_items", TransactItems=items)
    # Then DynamoDB refuses it, and nothing is written
    assert (answer["code"], answer["status"]) == ("ValidationException", 400)
    assert "4 MB" in answer["message"]
    import boto3
    from customer_import_local.stack import table_name

    found = boto3.client("dynamodb").get_item(
        TableName=table_name("customers"),
        Key={"org_id": {"S": "org-k"}, "customer_id": {"S": "c0"}},
    )
    assert "Item" not in found


def test_a_transaction_under_4_mb_is_written_however_long_its_json(stack) -> None:
    # Given ten items of 390,000 double quotes each: 3.9 MB of data, twice that in JSON
    items = _customer_puts("org-kq", 10, '"' * 390_000)
    # When they are written in one transaction
    answer = _in_this_process("dynamodb", "transact_write_items", TransactItems=items)
    # Then DynamoDB takes it: its size is the data's, not the request's
    assert "code" not in answer, answer


def test_a_missing_object_is_access_denied_as_for_a_role_without_list_bucket(stack) -> None:
    # Given a key nobody wrote (or one the lifecycle rule expired)
    bucket, key = stack.endpoints.bucket, "staging/org-k/gone/preview.json"
    for send in (_in_this_process, _from_another_process):
        # When it is read, or its head asked for
        read = send("s3", "get_object", Bucket=bucket, Key=key)
        head = send("s3", "head_object", Bucket=bucket, Key=key)
        # Then S3 answers 403 as it does for a role without s3:ListBucket, never NoSuchKey
        assert (read["code"], read["status"]) == ("AccessDenied", 403), send.__name__
        assert head["status"] == 403, send.__name__


def test_the_stack_throttles_as_dynamodb_does_when_asked(stack) -> None:
    # Given the next two BatchWriteItem requests to the match keys table throttled
    from customer_import_local import seams

    table = _match_keys_table()
    planned = seams.throttle("BatchWriteItem", table, times=2)
    request = {"RequestItems": {table: [{"PutRequest": {"Item": _key("org-k#email:t@x")}}]}}
    # When three are sent by a client that does not retry
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    client = boto3.client("dynamodb", config=Config(retries={"total_max_attempts": 1}))
    codes = []
    for _ in range(3):
        try:
            client.batch_write_item(**request)
            codes.append("ok")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    # Then the first two fail with AWS's throttling error, the third is written
    assert codes == ["ProvisionedThroughputExceededException"] * 2 + ["ok"]
    assert planned.thrown == 2


def test_a_read_never_sees_an_update_half_applied(stack) -> None:
    # Given a job item that one thread keeps updating, every attribute to the same new value
    import threading

    import boto3
    from customer_import_local.stack import table_name

    client = boto3.client("dynamodb")
    table = table_name("jobs")
    key = {"org_id": {"S": "org-atomic"}, "job_id": {"S": "j1"}}
    names = [f"a{i}" for i in range(6)]
    client.put_item(TableName=table, Item={**key, **{n: {"N": "0"} for n in names}})
    done = threading.Event()

    def update() -> None:
        try:
            for value in range(1, 60):
                client.update_item(
                    TableName=table,
                    Key=key,
                    UpdateExpression="SET " + ", ".join(f"{n} = :v" for n in names),
                    ExpressionAttributeValues={":v": {"N": str(value)}},
                )
        finally:
            done.set()

    writer = threading.Thread(target=update)
    writer.start()
    # When another thread reads it meanwhile
    seen = []
    while not done.is_set():
        item = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
        seen.append({item[n]["N"] for n in names})
    writer.join()
    # Then each read sees one whole update, as DynamoDB's single-item writes are atomic
    assert [values for values in seen if len(values) > 1] == []


# ---- seam P: a condition expression parsed once ----------------------------------------------


def test_a_condition_parsed_once_is_evaluated_with_each_request_s_own_names_and_values(
    stack,
) -> None:
    # Given an identity held live by customer c1, and moto's parse of conditions kept
    import boto3
    from customer_import_local import seams
    from customer_import_local.stack import table_name

    client = boto3.client("dynamodb")
    table = table_name("customer_identities")
    key = {"identity_key": {"S": "org-p#acc#P1"}}
    client.put_item(
        TableName=table,
        Item={**key, "org_id": {"S": "org-p"}, "customer_id": {"S": "c1"}, "live": {"BOOL": True}},
    )

    def take(
        customer_id: str, own: str = "customer_id", among: tuple[str, ...] | None = None
    ) -> str:
        # `among`: the holder must be one of these (IN), each its own value
        names = [f":v{n}" for n in range(len(among))] if among else [":own"]
        put = {
            "TableName": table,
            "Item": {**key, "org_id": {"S": "org-p"}, "customer_id": {"S": customer_id}},
            "ConditionExpression": f"attribute_not_exists (#k) OR #own IN ({', '.join(names)})"
            if among
            else "attribute_not_exists (#k) OR #own = :own",
            "ExpressionAttributeNames": {"#k": "identity_key", "#own": own},
            "ExpressionAttributeValues": {
                name: {"S": value}
                for name, value in zip(names, among or (customer_id,), strict=True)
            },
        }
        try:
            client.transact_write_items(TransactItems=[{"Put": put}])
        except client.exceptions.TransactionCanceledException as exc:
            return exc.response["CancellationReasons"][0]["Code"]
        return "written"

    # When the same condition text is sent with other values and other names, and a
    # condition of several values (IN) with others
    hits = seams._parsed.cache_info().hits
    outcomes = [take("c1"), take("c2"), take("c1"), take("c1", own="org_id")]
    among = [take("c1", among=("c0", "c1")), take("c1", among=("c2", "c3"))]
    # Then each is judged by its own values and names, as DynamoDB judges it: the holder
    # writes again, a rival is cancelled, and so is a condition on another attribute (org_id
    # is not c1) or on values the holder is not among; while the parsed conditions were
    # handed out again
    assert outcomes == ["written", "ConditionalCheckFailed", "written", "ConditionalCheckFailed"]
    assert among == ["written", "ConditionalCheckFailed"]
    assert seams._parsed.cache_info().hits > hits


def test_put_events_over_256_kb_is_refused_as_eventbridge_does(stack) -> None:
    import json

    import boto3
    import pytest
    from botocore.exceptions import ClientError

    # Given EventBridge's reckoning: an entry's Source, DetailType and Detail add up
    events = boto3.client("events")

    def entry(detail_bytes: int) -> dict[str, str]:
        detail = json.dumps({"pad": "x" * (detail_bytes - 11)})
        return {"Source": "customer-import", "DetailType": "Import Finished", "Detail": detail}

    # When one entry just under 256 KB is put, then two that together are over it
    under = events.put_events(Entries=[entry(256 * 1024 - 100)])
    with pytest.raises(ClientError) as refused:
        events.put_events(Entries=[entry(200 * 1024), entry(100 * 1024)])

    # Then the first is taken, and the second request refused whole, in EventBridge's words
    assert under["FailedEntryCount"] == 0
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ValidationException",
        "Total size of the entries in the request is over the limit.",
    )


def test_a_query_that_stops_at_its_limit_says_where_as_dynamodb_does(stack) -> None:
    # Given a partition of three items, one of them without the attribute a filter asks for
    import boto3
    from customer_import_local.stack import table_name

    client, table = boto3.client("dynamodb"), table_name("job_batches")
    job = f"job-{uuid.uuid4().hex[:8]}"
    for batch, retry in (("00001", None), ("00002", True), ("00003", True)):
        item = {"job_id": {"S": job}, "batch_id": {"S": batch}}
        client.put_item(TableName=table, Item=item | ({"retry": {"BOOL": retry}} if retry else {}))

    def page(limit: int, **more: Any) -> dict[str, Any]:
        return client.query(
            TableName=table,
            KeyConditionExpression="job_id = :j",
            ExpressionAttributeValues={":j": {"S": job}, **more.pop("values", {})},
            Limit=limit,
            **more,
        )

    # When the whole partition is asked for in one page exactly its size, and in a larger one
    full, larger = page(3), page(4)
    # Then the full page says where it stopped, and the page after it is empty
    assert full["LastEvaluatedKey"] == {"job_id": {"S": job}, "batch_id": {"S": "00003"}}
    after = page(3, ExclusiveStartKey=full["LastEvaluatedKey"])
    assert (after["Count"], after.get("LastEvaluatedKey")) == (0, None)
    assert "LastEvaluatedKey" not in larger
    # And a filtered page stops at the last item it evaluated, kept or not
    filtered = page(
        2, FilterExpression="attribute_not_exists(retry)", ProjectionExpression="batch_id"
    )
    assert [i["batch_id"]["S"] for i in filtered["Items"]] == ["00001"]
    assert filtered["LastEvaluatedKey"] == {"job_id": {"S": job}, "batch_id": {"S": "00002"}}
