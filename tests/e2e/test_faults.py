"""Fault tests on the real state machine and handlers (issue 5): nothing lost, nothing doubled."""

from __future__ import annotations

import contextlib
import json
import socket
from dataclasses import replace
from urllib.parse import urlencode

import boto3
import pytest
import requests
from customer_import.adapters.customers_dynamo import DynamoCustomerRepository
from customer_import.adapters.dynamo import (
    ConnectionModel,
    CustomerModel,
    VehicleModel,
)
from customer_import.customers.customer import Customer, new_customer_id
from customer_import.customers.repository import INVALID, Create
from customer_import.jobs import JobOptions
from customer_import_local.tokens import local_token
from websockets.sync.client import connect

from tests.unit.techman_files import customers, row, techman_csv


def invoke(function: str, event: dict) -> dict:
    from customer_import_local.stack import function_name

    from infra.description import DESCRIPTION

    response = boto3.client("lambda").invoke(
        FunctionName=function_name(DESCRIPTION.function(function)), Payload=json.dumps(event)
    )
    return json.loads(response["Payload"].read())


def snapshot(org: str) -> dict:
    """Every customer and vehicle item of an organisation, as stored."""
    found = {}
    for customer in CustomerModel.query(org):
        found[customer.customer_id] = customer.attribute_values
        for vehicle in VehicleModel.query(customer.customer_id):
            found[vehicle.vehicle_id] = vehicle.attribute_values
    return found


def test_import_batch_invoked_twice_leaves_the_same_data_and_counters(driver, org) -> None:
    # Given a completed import of two batches
    job = driver.run(
        org, techman_csv([*customers(150), row("9000", "Ann Car", VehicleRegistration="AB12CDE")])
    )
    before, counters = snapshot(org), job.counters
    batch = driver.components.pipeline.objects.get_json(job.manifest_key)[0]
    # When the first batch's Lambda runs again with the very same event (a redelivery)
    result = invoke("import_batch", {"job": {"org_id": org, "job_id": job.job_id}, "batch": batch})
    # Then it succeeds, and data and counters are exactly as they were
    assert result == {"batch_id": "00001"}
    assert snapshot(org) == before
    assert driver.components.pipeline.job(org, job.job_id).counters == counters


def test_unprocessed_items_are_resent_until_written(driver, org, monkeypatch) -> None:
    # Given DynamoDB leaving the last item of every first request unprocessed
    from pynamodb.connection import TableConnection

    original = TableConnection.batch_write_item
    first_calls: set[int] = set()

    def throttled(self, put_items=None, **kwargs):
        key = id(put_items[0]) if put_items else 0
        if put_items and len(put_items) > 1 and key not in first_calls:
            first_calls.add(key)
            response = original(self, put_items=put_items[:-1], **kwargs)
            response.setdefault("UnprocessedItems", {})[self.table_name] = [
                {"PutRequest": {"Item": put_items[-1]}}
            ]
            return response
        return original(self, put_items=put_items, **kwargs)

    monkeypatch.setattr(TableConnection, "batch_write_item", throttled)
    # When an import runs
    job = driver.run(org, techman_csv(customers(60)))
    # Then every customer was written, none failed
    assert (job.status, job.counter("imported"), job.counter("failed")) == ("completed", 60, 0)
    assert len(list(CustomerModel.query(org))) == 60
    assert first_calls  # the throttling did happen


def test_a_subscriber_vanishing_mid_import_never_fails_it(driver, stack, org) -> None:
    # Given a subscriber of a 300-customer import
    created = driver.components.pipeline.create_upload(
        org, "main", "techman", "f.csv", JobOptions(auto_run=True), "t"
    )
    token = local_token(org, "tester")
    with connect(f"{stack.endpoints.websocket_url}/?{urlencode({'token': token})}") as client:
        client.send(json.dumps({"action": "subscribe", "job_id": created.job.job_id}))
        assert json.loads(client.recv(timeout=10))["type"] == "state"
        files = {"file": ("f.csv", techman_csv(customers(300)))}
        requests.post(created.post["url"], data=created.post["fields"], files=files, timeout=30)
        # When its network goes away as soon as the first progress arrives
        while json.loads(client.recv(timeout=60))["type"] != "progress":
            pass
        client.socket.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            client.close()
    # Then the import completes with every customer, and the connection is forgotten
    job = driver.wait_for(org, created.job.job_id, {"completed", "completed_with_errors", "failed"})
    assert (job.status, job.counter("imported")) == ("completed", 300)
    assert driver.components.connections.subscribers(created.job.job_id) == []
    assert not [c for c in ConnectionModel.scan() if c.job_id == created.job.job_id]


def test_the_customer_store_isolates_a_customer_the_database_refuses(driver, org) -> None:
    # Given a staged customer whose item is over DynamoDB's size limit, beside a normal one
    job, staged = _staged_customer(driver, org)
    good = _create(job, {**staged, "external_customer_number": "g1", "rows": [10]})
    huge = _create(
        job, {**staged, "external_customer_number": "h1", "rows": [11], "name": "x" * 420_000}
    )
    # When both are written in one batch
    [refused] = _repository().save([good, huge])
    # Then only the refused one fails, with the reason; the other is written
    assert refused.write is huge and refused.reason == INVALID
    assert "Write failed" in refused.message
    stored = {c.customer_id for c in CustomerModel.query(org)}
    assert good.customer.customer_id in stored and huge.customer.customer_id not in stored


def test_disabled_metrics_never_pile_up_onto_standard_output(driver, org) -> None:
    # Given the local stack, where Powertools metrics are disabled
    from aws_lambda_powertools import Metrics

    # When an import runs its batches (each adds metrics)
    driver.run(org, techman_csv(customers(120)))
    # Then nothing is left in Powertools' shared store to be auto-flushed onto stdout at 100
    assert len(Metrics().metric_set) == 0


def _expire_staging(stack, org: str, job_id: str) -> None:
    """What the lifecycle rule does to a job's staged objects after their days."""
    s3 = boto3.client("s3")
    listed = s3.list_objects_v2(Bucket=stack.endpoints.bucket, Prefix=f"staging/{org}/{job_id}/")
    for item in listed.get("Contents", []):
        s3.delete_object(Bucket=stack.endpoints.bucket, Key=item["Key"])


def _api(stack, org: str):
    from customer_import_local.api_client import ApiClient

    return ApiClient(stack.endpoints.api_url, local_token(org, "tester"))


def test_a_ready_job_whose_staging_expired_answers_without_a_server_error(
    driver, stack, org
) -> None:
    # Given a ready job with possible duplicates, whose staged objects then expired
    from customer_import_local.api_client import ApiError

    repeat = row("2", "Annie Lee", Email="ann@example.com")
    job = driver.run(org, techman_csv([row("1", "Ann Lee"), repeat]), decision=None)
    assert (job.status, job.counter("duplicates")) == ("ready", 1)
    _expire_staging(stack, org, job.job_id)
    api = _api(stack, org)
    # When a person reads it, its duplicates, and decides
    detail = api.job(job.job_id)
    with pytest.raises(ApiError) as duplicates:
        api.duplicates(job.job_id)
    with pytest.raises(ApiError) as decision:
        api.decide(job.job_id, "skip")
    # Then the job shows without its preview, and the others say the staging expired (S3
    # answers AccessDenied for the missing objects, not NoSuchKey)
    assert (detail["status"], detail["preview"]) == ("ready", None)
    for refused in (duplicates.value, decision.value):
        assert refused.status == 410, refused
        assert "staged data has expired" in refused.message


def test_a_retry_after_the_staging_expired_is_refused_with_why(
    driver, stack, org, unavailable_batch
) -> None:
    # Given an import whose second batch failed, and whose staged batches then expired
    from customer_import_local.api_client import ApiError

    unavailable_batch.start()
    job = driver.run(org, techman_csv(customers(150)))
    unavailable_batch.end()
    assert (job.status, job.counter("failed")) == ("completed_with_errors", 50)
    _expire_staging(stack, org, job.job_id)
    # When the admin retries
    with pytest.raises(ApiError) as refused:
        _api(stack, org).retry(job.job_id)
    # Then the API says the staging expired, and the job is as it was
    assert refused.value.status == 410
    assert "import the file again" in refused.value.message
    assert driver.components.pipeline.job(org, job.job_id).status == "completed_with_errors"


def test_customers_sharing_keys_in_one_batch_are_written_as_dynamodb_accepts(driver, org) -> None:
    # Given one batch where two customers share a name (so a match key) but not an email or
    # phone, and one customer gives the same vehicle on two rows; the local stack refuses a
    # BatchWriteItem naming one key twice, as DynamoDB does
    rows = [
        row("1", "Ann Car"),
        row("2", "Ann Car", Email="ann.car@example.org"),
        row("3", "Bo Vee", VehicleRegistration="AB12 CDE"),
        row("3", "Bo Vee", VehicleRegistration="AB12CDE"),
    ]
    # When it is imported
    job = driver.run(org, techman_csv(rows))
    # Then every customer is written whole, once, and nothing failed
    assert (job.status, job.counter("imported"), job.counter("failed")) == ("completed", 3, 0)
    stored = {c["external_customer_number"]: c for c in driver.customers(org)}
    assert sorted(stored) == ["1", "2", "3"]
    assert [v["registration"] for v in stored["3"]["vehicles"]] == ["AB12CDE"]


def test_a_throttled_batch_is_retried_by_the_state_machine_and_written_once(driver, org) -> None:
    # Given DynamoDB throttling the batch writes of the customers' addresses through
    # botocore's retries of two invocations, and the batch record's transaction twice
    from customer_import_local import seams
    from customer_import_local.stack import table_name
    from pynamodb.settings import get_settings_value

    attempts = 2 * (1 + get_settings_value("max_retry_attempts"))
    writes = seams.throttle("BatchWriteItem", table_name("customer_addresses"), times=attempts)
    records = seams.throttle(
        "TransactWriteItems", table_name("job_batches"), times=2, error="ThrottlingException"
    )
    try:
        # When one batch of 80 customers is imported
        job = driver.run(org, techman_csv(customers(80)))
    finally:
        seams.stop_throttling()
    # Then the throttling happened, no row failed for it, and every customer is written once
    assert (writes.thrown, records.thrown) == (attempts, 2)
    assert (job.status, job.counter("imported"), job.counter("failed")) == ("completed", 80, 0)
    numbers = [c["external_customer_number"] for c in driver.customers(org)]
    assert len(numbers) == len(set(numbers)) == 80
    outcomes = driver.components.jobs.batch_outcomes(job.job_id)
    assert [o.batch_id for o in outcomes] == ["00001"]
    assert not [f for o in outcomes for f in o.failures]


def _staged_customer(driver, org: str) -> tuple:
    """A completed one-customer job and its staged customer, to write variants of by hand."""
    job = driver.run(
        org, techman_csv(customers(1)), decision=None, options=JobOptions(auto_run=True)
    )
    objects = driver.components.pipeline.objects
    staged = objects.get_json(objects.get_json(job.manifest_key)[0]["key"])["customers"]
    return job, staged[0]


def _create(job, staged: dict) -> Create:
    """A create of a variant of a staged customer, with a customer id of its own."""
    customer = Customer.from_staged(job.org_id, job.account_id, staged)
    return Create(replace(customer, customer_id=new_customer_id()), job.job_id, "2026-12-01")


def _repository() -> DynamoCustomerRepository:
    return DynamoCustomerRepository("eu-west-2")


def test_a_customer_whose_records_cannot_all_be_written_is_not_stored(driver, org) -> None:
    # Given a customer whose address is over DynamoDB's item limit, beside a normal one
    job, staged = _staged_customer(driver, org)
    good = _create(job, {**staged, "external_customer_number": "g2", "rows": [10]})
    address = {**staged["addresses"][0], "line1": "x" * 420_000}
    huge = _create(
        job,
        {**staged, "external_customer_number": "h2", "rows": [11], "addresses": [address]},
    )
    # When both are written in one batch
    [refused] = _repository().save([good, huge])
    # Then it is refused, and not stored at all (no customer without its address); the other
    # is stored with its address
    assert refused.write is huge and refused.reason == INVALID
    stored = {c["customer_id"]: c for c in driver.customers(org)}
    assert huge.customer.customer_id not in stored
    assert (
        stored[good.customer.customer_id]["addresses"] == stored[staged["customer_id"]]["addresses"]
    )


def test_a_name_too_long_for_a_dynamodb_key_is_matched_through_its_digest(driver, org) -> None:
    # Given a customer whose name makes a match key over DynamoDB's 2,048-byte key limit
    from customer_import.duplicates import match_keys

    job, staged = _staged_customer(driver, org)
    long_named = _create(
        job, {**staged, "external_customer_number": "n3", "rows": [12], "name": "Zoë " * 800}
    )
    # When it is written, and its keys looked up as Prepare looks them up
    refused = _repository().save([long_named])
    found = _repository().find_by_match_keys(org, match_keys({"name": "Zoë " * 800}))
    # Then it is stored, not refused, and found again by its name
    assert refused == []
    assert long_named.customer.customer_id in found


def test_a_customer_number_too_long_for_the_index_fails_its_row_and_writes_nothing(
    driver, org
) -> None:
    # Given a customer whose number is over the 1,024 bytes an index sort key may hold
    job, staged = _staged_customer(driver, org)
    long_number = _create(job, {**staged, "rows": [13], "external_customer_number": "9" * 1025})
    # When it is written
    [refused] = _repository().save([long_number])
    # Then it is refused naming the column and the limit, and nothing of it is stored
    assert (refused.reason, refused.column) == (INVALID, "CustomerNumber")
    assert "1,024 bytes" in refused.message
    assert long_number.customer.customer_id not in {c["customer_id"] for c in driver.customers(org)}


def test_a_failed_batch_of_large_rows_is_recorded_and_its_rows_reach_the_error_log(
    driver, stack, org, unavailable_batch
) -> None:
    # Given 200 customers with 5 KB of values each (in columns the import does not know), the
    # second batch failing every time it is written: its rows' values add up to 500 KB, over
    # DynamoDB's 400 KB item limit
    from tests.unit.techman_files import HEADER

    notes = [f"Note{n}" for n in range(10)]
    rows = [{**r, **dict.fromkeys(notes, "n" * 500)} for r in customers(200)]
    unavailable_batch.start()
    # When it is imported
    job = driver.run(org, techman_csv(rows, header=[*HEADER, *notes]))
    unavailable_batch.end()
    # Then the failed batch is recorded and counted, and the import completes
    assert (job.status, job.counter("imported"), job.counter("failed")) == (
        "completed_with_errors",
        100,
        100,
    )
    # And the error log lists each of its rows with their original values
    log = boto3.client("s3").get_object(Bucket=stack.endpoints.bucket, Key=job.error_log_key)
    lines = log["Body"].read().decode().splitlines()
    assert len([line for line in lines if "n" * 500 in line]) == 100
