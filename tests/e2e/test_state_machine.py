"""The real ImportJob ASL with the real handlers, on the embedded stack."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from customer_import.adapters.dynamo import CustomerModel, JobModel
from customer_import.errors import InvalidTransition, TransientImportError
from customer_import.imports.run import JobRun
from customer_import.jobs import JobOptions
from customer_import.profiles import checked_profile
from customer_import_local import seams
from customer_import_local.stack import function_name

from infra.description import DESCRIPTION
from tests.conftest import written_by
from tests.unit.techman_files import HEADER, customers, row, techman_csv


def executions_for(stack, job_id: str) -> list[dict]:
    sfn = boto3.client("stepfunctions")
    found = []
    for execution in sfn.list_executions(stateMachineArn=stack.endpoints.state_machine_arn)[
        "executions"
    ]:
        event = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
        # Uploads start with an S3 event; retries (other tests) start with the job itself.
        if job_id in event.get("detail", {}).get("object", {}).get("key", ""):
            found.append(sfn.describe_execution(executionArn=execution["executionArn"]))
    return found


def test_an_upload_is_imported_with_vehicles_and_addresses(driver, org) -> None:
    # Given a file with a customer on two rows (two vehicles) and one with a delivery address
    content = techman_csv(
        [
            row("1", "Ann Lee", VehicleRegistration="ab12 cde", VehicleMake="Ford"),
            row("1", "Ann Lee", VehicleRegistration="XY65 ZZZ", VehicleMake="VW"),
            row("2", "Bob Hall"),
        ]
    )
    # When it is uploaded and the decision is made
    job = driver.run(org, content)
    # Then the job went through every state to completed, with the counts
    assert job.status == "completed"
    assert (job.counter("rows"), job.counter("customers"), job.counter("vehicles")) == (3, 2, 2)
    assert (job.counter("imported"), job.counter("failed")) == (2, 0)
    # And the customers are in DynamoDB, keyed by their external number, with vehicles
    stored = {c["external_customer_number"]: c for c in driver.customers(org)}
    assert sorted(stored) == ["1", "2"]
    assert stored["1"]["phone"] == "+447712000001"
    assert sorted(v["registration"] for v in stored["1"]["vehicles"]) == ["AB12CDE", "XY65ZZZ"]
    assert stored["2"]["addresses"][0]["postcode"] == "LS1 1AA"
    # And the audit log, listed by organisation and time, records the decision and the outcome
    actions = [e.action for e in driver.components.audit.page(org, 100, None)[0]]
    assert actions == ["import.decided", "import.completed"] or sorted(actions) == [
        "import.completed",
        "import.decided",
    ]


def test_an_upload_starts_one_execution_named_after_its_organisation_and_job(
    driver, stack, org
) -> None:
    # Given an upload under uploads/
    job = driver.upload(org, techman_csv(customers(2)))
    job = driver.wait_for(org, job.job_id, {"ready"})
    # Then exactly one execution runs for it, named `<org>_<job>`, findable by both
    [execution] = executions_for(stack, job.job_id)
    assert (
        execution["name"] == f"{org}_{job.job_id}" == JobRun.first().execution_name(org, job.job_id)
    )
    assert execution["executionArn"] == f"{_execution_prefix(stack)}:{org}_{job.job_id}"
    # And it is the execution that registered the job
    assert job.execution_id == execution["executionArn"]


def _execution_prefix(stack) -> str:
    """arn:...:stateMachine:{machine} -> arn:...:execution:{machine}"""
    return stack.endpoints.state_machine_arn.replace(":stateMachine:", ":execution:")


def test_an_erp_drop_starts_one_execution_named_after_the_job_it_creates(
    driver, stack, org, eventually
) -> None:
    # Given a file an ERP drops under its organisation and its unattended profile
    driver.components.profiles.put(checked_profile(org, "nightly", {"review": "auto"}))
    key = f"drops/{org}/nightly/customers.csv"
    boto3.client("s3").put_object(
        Bucket=stack.endpoints.bucket, Key=key, Body=techman_csv(customers(2))
    )
    # When the import runs on its own (a drop needs no person)
    eventually(lambda: any(JobModel.query(org)))
    [job_id] = [job.job_id for job in JobModel.query(org)]
    job = driver.wait_for(org, job_id, {"completed"})
    # Then its one execution is named after the organisation and the job that RegisterJob
    # created from the object
    sfn = boto3.client("stepfunctions")
    arn = f"{_execution_prefix(stack)}:{org}_{job_id}"
    eventually(lambda: sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED")
    execution = sfn.describe_execution(executionArn=arn)
    assert json.loads(execution["input"])["detail"]["object"]["key"] == key
    assert job.execution_id == execution["executionArn"]
    assert job.counter("imported") == 2


def test_a_drop_naming_a_profile_the_organisation_lacks_is_a_rejected_job_saying_why(
    driver, stack, org, eventually
) -> None:
    # Given a file an ERP drops in the folder of a profile nobody saved
    key = f"drops/{org}/weekly/customers.csv"
    boto3.client("s3").put_object(
        Bucket=stack.endpoints.bucket, Key=key, Body=techman_csv(customers(2))
    )
    # When its execution runs
    eventually(lambda: any(JobModel.query(org)))
    [job_id] = [job.job_id for job in JobModel.query(org)]
    job = driver.wait_for(org, job_id, {"rejected"})
    # Then the job is rejected, in the organisation's list, saying what to do; nothing imported
    assert "no import profile 'weekly'" in (job.reason or "")
    assert (job.options.profile, job.counter("imported")) == ("weekly", 0)
    assert driver.customers(org) == []


def test_objects_outside_uploads_and_drops_start_nothing(stack) -> None:
    # Given the rule of the description (uploads/ and drops/ only)
    sfn = boto3.client("stepfunctions")
    before = len(
        sfn.list_executions(stateMachineArn=stack.endpoints.state_machine_arn)["executions"]
    )
    # When an object lands elsewhere in the bucket (staging, error logs)
    boto3.client("s3").put_object(
        Bucket=stack.endpoints.bucket, Key="staging/x/manifest.json", Body=b"[]"
    )
    # Then no execution starts
    after = len(
        sfn.list_executions(stateMachineArn=stack.endpoints.state_machine_arn)["executions"]
    )
    assert after == before


def test_an_object_created_event_delivered_twice_starts_one_execution_and_one_job(
    driver, stack, org
) -> None:
    # Given a completed import, and the Object Created event that started it
    job = driver.run(org, techman_csv(customers(3)))
    assert job.status == "completed"
    [first] = executions_for(stack, job.job_id)
    event = json.loads(first["input"])
    # When EventBridge delivers the same event again, to the rule and straight to its target
    boto3.client("events").put_events(
        Entries=[
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
            }
        ]
    )
    seams.wait_for_async_invocations(timeout_s=30)
    answer = boto3.client("lambda").invoke(
        FunctionName=function_name(DESCRIPTION.function("start_import")),
        Payload=json.dumps(event).encode(),
    )
    # Then the starter named the same execution, which was not started again
    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read())["execution_name"] == f"{org}_{job.job_id}"
    assert [e["executionArn"] for e in executions_for(stack, job.job_id)] == [first["executionArn"]]
    # And there is still one job, with nothing imported twice
    assert [j.job_id for j in JobModel.query(org)] == [job.job_id]
    assert driver.components.pipeline.job(org, job.job_id).counters == job.counters
    assert len(driver.customers(org)) == 3


def test_a_file_without_email_is_rejected_and_writes_no_customer(driver, org) -> None:
    # Given a Techman export without the Email column
    content = techman_csv(customers(3), [c for c in HEADER if c != "Email"])
    # When it is uploaded
    job = driver.run(org, content)
    # Then the job is rejected naming Email, and no customer was written
    assert job.status == "rejected"
    assert job.missing_columns == ["Email"]
    assert driver.customers(org) == []


def test_no_decision_in_time_expires_the_job(driver, stack, org) -> None:
    # Given a job whose decision window is one second
    job = driver.upload(org, techman_csv(customers(1)), JobOptions(decision_timeout_seconds=1))
    # When nobody decides
    job = driver.wait_for(org, job.job_id, {"expired", "failed"})
    # Then the wait timed out into expired, and nothing was imported
    assert job.status == "expired"
    assert driver.customers(org) == []


def test_cancelling_a_ready_job_ends_it_cancelled(driver, stack, org, eventually) -> None:
    # Given a job waiting for a decision
    job = driver.upload(org, techman_csv(customers(1)))
    driver.wait_for(org, job.job_id, {"ready"})
    # When the admin cancels it
    driver.components.pipeline.cancel(org, job.job_id, "tester")
    # Then the execution ends through the Cancelled branch and nothing is imported
    eventually(lambda: executions_for(stack, job.job_id)[0]["status"] == "SUCCEEDED")
    assert driver.components.pipeline.job(org, job.job_id).status == "cancelled"
    assert driver.customers(org) == []


def test_auto_run_jobs_import_without_a_decision(driver, org) -> None:
    # Given a job that asks for no review (as an ERP profile does)
    job = driver.run(
        org, techman_csv(customers(2)), decision=None, options=JobOptions(auto_run=True)
    )
    # Then it imports straight away
    assert (job.status, job.counter("imported"), job.decision) == ("completed", 2, None)


def test_the_asl_retries_and_catches_handler_errors_by_class_name(driver, org, monkeypatch) -> None:
    # Given 250 customers (3 batches) where batch 1 hits a transient error once and batch 2
    # fails every time
    from customer_import.adapters.customers_dynamo import DynamoCustomerRepository

    original = DynamoCustomerRepository.save
    attempts: dict[str, int] = {}

    def flaky_write(self, writes):
        org_id, first = written_by(writes) or ("", "")
        if org_id == org:
            attempts[first] = attempts.get(first, 0) + 1
        if org_id == org and first == "1000" and attempts[first] == 1:
            raise TransientImportError("DynamoDB throttled")
        if org_id == org and first == "1100":
            raise RuntimeError("disk on fire")
        return original(self, writes)

    monkeypatch.setattr(DynamoCustomerRepository, "save", flaky_write)
    # When the file is imported
    job = driver.run(org, techman_csv(customers(250)))
    # Then the transient error was retried (Retry matched TransientImportError) and batch 1 landed
    assert attempts["1000"] == 2
    # And the failing batch was caught inside its iteration: the others landed, its rows failed
    assert job.status == "completed_with_errors"
    assert (job.counter("imported"), job.counter("failed"), job.counter("batches_done")) == (
        150,
        100,
        3,
    )
    numbers = {c["external_customer_number"] for c in driver.customers(org)}
    assert "1000" in numbers and "1100" not in numbers and "1200" in numbers
    key = driver.components.pipeline.job(org, job.job_id).error_log_key
    text = (
        boto3.client("s3")
        .get_object(Bucket=driver.stack.endpoints.bucket, Key=key)["Body"]
        .read()
        .decode()
    )
    assert "Batch 00002 failed: RuntimeError: disk on fire" in text


def test_a_lambda_error_is_reported_by_exception_class(stack) -> None:
    # Given a real function invoked with a job that does not exist
    from customer_import_local.stack import function_name

    from infra.description import DESCRIPTION

    response = boto3.client("lambda").invoke(
        FunctionName=function_name(DESCRIPTION.function("close_job")),
        Payload=json.dumps({"job": {"org_id": "nobody", "job_id": "none"}, "status": "failed"}),
    )
    # Then Lambda reports a function error named by the exception class
    payload = json.loads(response["Payload"].read())
    assert response.get("FunctionError")  # moto says "Handled" where Lambda says "Unhandled"
    assert payload["errorType"] == "JobNotFound"
    assert "none" in payload["errorMessage"]


@pytest.mark.parametrize("model", [JobModel, CustomerModel])
def test_tables_come_from_the_description(stack, model) -> None:
    # The models are bound to the tables the stack created from the description
    assert model.exists()


def test_the_faster_item_seams_still_refuse_items_over_the_size_limit(stack) -> None:
    # Given the local DynamoDB with seams D (linear-time item construction) and J (packed items)
    client = boto3.client("dynamodb")
    table = stack.endpoints.environment["ORGANISATIONS_TABLE"]
    # When an item of about 410 KB is written, and one just under the limit
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as raised:
        client.put_item(
            TableName=table, Item={"org_id": {"S": "big"}, "blob": {"S": "x" * 410_000}}
        )
    client.put_item(TableName=table, Item={"org_id": {"S": "near"}, "blob": {"S": "y" * 390_000}})
    # Then the first is refused as DynamoDB would; the second is stored whole
    assert "maximum allowed size" in str(raised.value)
    near = client.get_item(TableName=table, Key={"org_id": {"S": "near"}})["Item"]
    assert near["blob"]["S"] == "y" * 390_000


def test_the_plain_json_answer_seam_reads_every_attribute_type_back(stack) -> None:
    # Given an item holding every DynamoDB type, in the local DynamoDB with seam G
    client = boto3.client("dynamodb")
    table = stack.endpoints.environment["ORGANISATIONS_TABLE"]
    item = {
        "org_id": {"S": "every-type"},
        "s": {"S": "£ café"},
        "n": {"N": "115882.5"},
        "b": {"B": b"\x00\xffbytes"},
        "t": {"BOOL": True},
        "z": {"NULL": True},
        "l": {"L": [{"S": "a"}, {"N": "1"}]},
        "m": {"M": {"k": {"S": "v"}, "deep": {"M": {"x": {"BOOL": False}}}}},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [b"1", b"2"]},
    }
    client.put_item(TableName=table, Item=item)
    # When it is read back by GetItem, Query, BatchGetItem and an update returning it
    key = {"org_id": {"S": "every-type"}}
    got = client.get_item(TableName=table, Key=key)["Item"]
    queried = client.query(
        TableName=table,
        KeyConditionExpression="org_id = :o",
        ExpressionAttributeValues={":o": {"S": "every-type"}},
    )["Items"]
    batched = client.batch_get_item(RequestItems={table: {"Keys": [key]}})["Responses"][table]
    updated = client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET s = :s",
        ExpressionAttributeValues={":s": {"S": "£ café"}},
        ReturnValues="ALL_NEW",
    )["Attributes"]

    # Then every answer holds exactly what was written
    def comparable(found: dict) -> dict:
        return {
            k: {t: sorted(v) if t in ("SS", "NS", "BS") else v for t, v in a.items()}
            for k, a in found.items()
        }

    for answer in (got, queried[0], batched[0], updated):
        assert comparable(answer) == comparable(item)


def test_a_failed_batch_is_retried_through_the_state_machine_without_doubling(
    driver, stack, org, unavailable_batch
) -> None:
    # Given 250 customers where the second batch fails every time it is written
    unavailable_batch.start()
    job = driver.run(org, techman_csv(customers(250)))
    assert (job.status, job.counter("imported"), job.counter("failed")) == (
        "completed_with_errors",
        150,
        100,
    )
    # When the table is back and the admin retries
    unavailable_batch.end()
    driver.components.pipeline.retry_failed(org, job.job_id, "tester")
    job = driver.wait_for(org, job.job_id, {"completed", "completed_with_errors", "failed"})
    # Then a second execution, named after the organisation and the job, imported exactly the
    # failed rows
    assert (job.status, job.counter("imported"), job.counter("failed"), job.counter("retries")) == (
        "completed",
        250,
        0,
        1,
    )
    assert job.error_log_key is None
    numbers = [c["external_customer_number"] for c in driver.customers(org)]
    assert len(numbers) == len(set(numbers)) == 250
    sfn = boto3.client("stepfunctions")
    names = [
        e["name"]
        for e in sfn.list_executions(stateMachineArn=stack.endpoints.state_machine_arn)[
            "executions"
        ]
    ]
    assert f"{org}_{job.job_id}-retry-1" == JobRun.retry(1).execution_name(org, job.job_id)
    assert f"{org}_{job.job_id}-retry-1" in names
    # And retrying again is refused: nothing is left to retry
    with pytest.raises(
        InvalidTransition,
        match="completed; only an import that completed with errors can be retried",
    ):
        driver.components.pipeline.retry_failed(org, job.job_id, "tester")


def test_the_local_stack_refuses_a_definition_that_uses_a_state_name_twice(stack) -> None:
    # Given the import workflow with a state of its second Map renamed to one of the first's
    # (moto's own parser accepts that; Step Functions does not)
    from botocore.exceptions import ClientError

    machine = json.loads(DESCRIPTION.state_machines[0].definition_path.read_text())
    repeats = machine["States"]["ImportRepeats"]["ItemProcessor"]
    first = machine["States"]["ImportBatches"]["ItemProcessor"]["StartAt"]
    repeats["States"][first] = repeats["States"].pop(repeats["StartAt"])
    repeats["StartAt"] = first
    for state in repeats["States"].values():
        for catcher in state.get("Catch", []):
            catcher["Next"] = catcher["Next"] if catcher["Next"] in repeats["States"] else first
    # When it is created on the local stack
    sfn = boto3.client("stepfunctions")
    with pytest.raises(ClientError) as refused:
        sfn.create_state_machine(
            name="DuplicateStateNames",
            definition=json.dumps(machine),
            roleArn="arn:aws:iam::123456789012:role/states",
        )
    # Then it is refused as AWS refuses it, naming the state and where it is
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidDefinition"
    assert f"DUPLICATE_STATE_NAME: Duplicate State name: {first}" in error["Message"]
    assert f"/States/ImportRepeats/ItemProcessor/States/{first}" in error["Message"]
    names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    assert "DuplicateStateNames" not in names


def test_a_batch_whose_failure_cannot_be_recorded_fails_its_rows_and_the_import_goes_on(
    driver, stack, org, unavailable_batch, monkeypatch
) -> None:
    # Given 250 customers whose second batch fails every time, and whose failure cannot be
    # recorded either (RecordBatchFailure's function fails for this organisation)
    import record_batch_failure  # the handler module, as the local stack imported it

    real_pipeline_for = record_batch_failure.pipeline_for

    class RecordingRefused:
        def __init__(self, settings) -> None:
            self.pipeline = real_pipeline_for(settings)

        def record_batch_failure(self, org_id, job_id, batch, error):
            if org_id == org:
                raise RuntimeError("job_batches unavailable")
            return self.pipeline.record_batch_failure(org_id, job_id, batch, error)

    monkeypatch.setattr(record_batch_failure, "pipeline_for", RecordingRefused)
    unavailable_batch.start()
    # When the file is imported
    job = driver.run(org, techman_csv(customers(250)))
    # Then the other batches landed and the lost batch's rows failed, naming it: the import
    # went on to Finalize instead of failing
    assert job.status == "completed_with_errors"
    assert (job.counter("imported"), job.counter("failed"), job.counter("batches_done")) == (
        150,
        100,
        3,
    )
    key = driver.components.pipeline.job(org, job.job_id).error_log_key
    log = boto3.client("s3").get_object(Bucket=stack.endpoints.bucket, Key=key)["Body"].read()
    assert log.decode().count("Batch 00002 failed: BatchLeftNoOutcome") == 100
    # And the execution succeeded
    [execution] = executions_for(stack, job.job_id)
    assert _ended(boto3.client("stepfunctions"), execution["executionArn"])["status"] == "SUCCEEDED"


def _ended(sfn, arn: str) -> dict:  # type: ignore[no-untyped-def]
    """The execution once it has ended: Finalize shows the job's final status a moment before
    its execution itself ends, with the output."""
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{arn} still running"
        time.sleep(0.05)
    return described


def test_an_import_with_errors_says_so_in_its_execution_output_and_metric(
    driver, stack, org, unavailable_batch, monkeypatch, capsys
) -> None:
    # Given an import whose second batch could not be written, and a clean one
    unavailable_batch.start()
    with_errors = driver.run(org, techman_csv(customers(150)))
    unavailable_batch.end()
    clean_org = f"{org}-clean"
    clean = driver.run(clean_org, techman_csv(customers(2)))
    # When ops read each execution (without opening its history)
    sfn = boto3.client("stepfunctions")
    outputs = {}
    for job in (with_errors, clean):
        arn = f"{_execution_prefix(stack)}:{JobRun.first().execution_name(job.org_id, job.job_id)}"
        outputs[job.job_id] = json.loads(_ended(sfn, arn)["output"])
    # Then its output is the job's final status and counts
    assert outputs[with_errors.job_id]["status"] == "completed_with_errors"
    assert outputs[with_errors.job_id]["counts"]["imported"] == 100
    assert outputs[with_errors.job_id]["counts"]["failed"] == 50
    assert outputs[clean.job_id] == {
        "job_id": clean.job_id,
        "status": "completed",
        "counts": {
            "rows": 2,
            "customers": 2,
            "vehicles": 0,
            "imported": 2,
            "created": 2,
            "updated": 0,
            "unchanged": 0,
            "merged": 0,
            "deleted": 0,
            "restored": 0,
            "copied": 0,
            "moved": 0,
            "skipped_duplicates": 0,
            "skipped_user": 0,
            "failed": 0,
        },
    }
    # And Finalize's function (metrics on, as in Lambda) emits a metric of the final status
    import finalize_import  # the handler module, as the local stack imported it
    from customer_import_local.invoker import LambdaContext

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capsys.readouterr()
    finalize_import.handler(
        {"job": {"org_id": org, "job_id": with_errors.job_id}},
        LambdaContext("finalize_import", 512, "arn:aws:lambda:local:finalize", 300),
    )
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    [finished] = emitted
    assert finished["ImportCompletedWithErrors"] == [1.0]
    assert "ImportCompleted" not in finished
