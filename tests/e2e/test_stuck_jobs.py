"""The sweep of stuck jobs, through its real handler invoked by Lambda on the local stack."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
from customer_import.jobs import JobOptions
from customer_import.stuck_jobs import STUCK_AFTER
from customer_import_local.stack import function_name, table_name

from infra.description import DESCRIPTION


def test_a_job_whose_upload_never_started_is_failed_with_its_reason(driver, org) -> None:
    # Given a job whose upload was asked for and never started an import
    pipeline = driver.components.pipeline
    job = pipeline.create_upload(org, "main", "techman", "lost.csv", JobOptions(), "alice").job
    # And that has not changed for longer than a job may wait
    long_ago = (datetime.now(UTC) - STUCK_AFTER * 2).isoformat(timespec="milliseconds")
    boto3.client("dynamodb").update_item(
        TableName=table_name("jobs"),
        Key={"org_id": {"S": org}, "job_id": {"S": job.job_id}},
        UpdateExpression="SET updated_at = :at",
        ExpressionAttributeValues={":at": {"S": long_ago}},
    )
    # When the schedule's function runs, invoked through Lambda as EventBridge would
    response = boto3.client("lambda").invoke(
        FunctionName=function_name(DESCRIPTION.function("sweep_stuck_jobs")),
        Payload=json.dumps({"source": "aws.events", "detail-type": "Scheduled Event"}),
    )
    result = json.loads(response["Payload"].read())
    # Then it failed that job (found through the sparse index), and the user reads why
    assert "FunctionError" not in response, result
    assert {"org_id": org, "job_id": job.job_id} in result["jobs"]
    failed = pipeline.job(org, job.job_id)
    assert failed.status == "failed"
    assert failed.reason is not None
    assert failed.reason.startswith("The import never started")
    # And the audit log says so
    [entry] = [e for e in driver.components.audit.page(org, 100, None)[0] if e.job_id == job.job_id]
    assert (entry.action, entry.actor, entry.details["stuck_in"]) == (
        "import.failed",
        "system",
        "pending",
    )


def test_a_job_that_is_moving_is_not_swept(driver, org) -> None:
    # Given a job just asked for
    pipeline = driver.components.pipeline
    job = pipeline.create_upload(org, "main", "techman", "new.csv", JobOptions(), "alice").job
    # When the sweep runs
    boto3.client("lambda").invoke(
        FunctionName=function_name(DESCRIPTION.function("sweep_stuck_jobs")), Payload=b"{}"
    )
    # Then the job still waits for its upload
    assert pipeline.job(org, job.job_id).status == "pending"


def test_an_ending_the_bus_keeps_refusing_is_counted_for_the_alarm(
    driver, org, monkeypatch, capsys
) -> None:
    # Given a stuck job, an event bus that refuses every Import Finished event (as EventBridge
    # refuses an entry: the request is taken, the entry failed) and metrics on, as in the cloud
    from moto.events.responses import EventsHandler

    pipeline = driver.components.pipeline
    job = pipeline.create_upload(org, "main", "techman", "lost.csv", JobOptions(), "alice").job
    long_ago = (datetime.now(UTC) - STUCK_AFTER * 2).isoformat(timespec="milliseconds")
    boto3.client("dynamodb").update_item(
        TableName=table_name("jobs"),
        Key={"org_id": {"S": org}, "job_id": {"S": job.job_id}},
        UpdateExpression="SET updated_at = :at",
        ExpressionAttributeValues={":at": {"S": long_ago}},
    )
    refused = {"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service error."}
    monkeypatch.setattr(
        EventsHandler,
        "put_events",
        lambda _self: json.dumps({"FailedEntryCount": 1, "Entries": [refused]}),
    )
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capsys.readouterr()
    # When the sweep runs
    response = boto3.client("lambda").invoke(
        FunctionName=function_name(DESCRIPTION.function("sweep_stuck_jobs")), Payload=b"{}"
    )
    result = json.loads(response["Payload"].read())
    # Then the job failed all the same, its ending reported as not announced
    assert "FunctionError" not in response, result
    assert {"org_id": org, "job_id": job.job_id} in result["unannounced"]
    assert pipeline.job(org, job.job_id).status == "failed"
    # And the run's metrics count the jobs it failed and the endings nobody was told of, the
    # figures the two alarms watch (infra/constructs/monitoring.py)
    [emitted] = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and '"_aws"' in line
    ]
    assert emitted["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "CustomerImport"
    assert emitted["EndingsUnannounced"] == [len(result["unannounced"])]
    assert emitted["JobsStuck"] == [len(result["jobs"])]
