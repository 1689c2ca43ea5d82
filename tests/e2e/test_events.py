"""`Import Finished` on the event bus (issue #19 item 7, design §5.6), received by a test
subscriber: an EventBridge rule on the product's source with an SQS queue as its target, as an
ERP integrator would write it; an event the bus refused is sent by the step's retry."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import boto3
import pytest

from tests.e2e.test_cli import CLI, cli, running
from tests.e2e.test_state_machine import executions_for
from tests.unit.techman_files import row, techman_csv

RULE_PATTERN = {"source": ["customer-import"], "detail-type": ["Import Finished"]}


@pytest.fixture
def subscriber(stack):  # type: ignore[no-untyped-def]
    """A queue receiving every `Import Finished` event through its own rule."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    name = f"erp-{uuid.uuid4().hex[:8]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps(RULE_PATTERN))
    events.put_targets(Rule=name, Targets=[{"Id": "erp", "Arn": queue_arn}])
    yield queue_url
    events.remove_targets(Rule=name, Ids=["erp"])
    events.delete_rule(Name=name)
    sqs.delete_queue(QueueUrl=queue_url)


def _received(queue_url: str, org: str) -> list[dict]:
    sqs = boto3.client("sqs")
    found = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in messages:
            event = json.loads(message["Body"])
            if event["detail"]["org_id"] == org:
                found.append(event)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_a_completed_and_a_rejected_import_each_announce_how_they_ended(
    driver, org, subscriber
) -> None:
    # Given a file with one good and one bad row, and a file that is no Techman export
    completed = driver.run(org, techman_csv([row("1", "Ann Lee"), row("2", "Bob Bad", Phone="1")]))
    rejected = driver.run(org, b"Name,Colour\nAnn,blue\n", decision=None)
    assert (completed.status, rejected.status) == ("completed_with_errors", "rejected")

    # When the subscriber reads its queue
    events = {e["detail"]["job_id"]: e for e in _received(subscriber, org)}

    # Then each job's ending came once, from the product's source, saying how it ended
    assert set(events) == {completed.job_id, rejected.job_id}
    done = events[completed.job_id]
    assert (done["source"], done["detail-type"]) == ("customer-import", "Import Finished")
    detail = done["detail"]
    assert (detail["status"], detail["account"], detail["profile"]) == (
        "completed_with_errors",
        "main",
        None,
    )
    assert (detail["counts"]["imported"], detail["counts"]["failed"]) == (1, 1)
    assert detail["error_log_key"] == f"error-logs/{org}/{completed.job_id}.csv"
    assert detail["event_id"] == f"{completed.job_id}:completed_with_errors:0"
    refused = events[rejected.job_id]["detail"]
    assert refused["status"] == "rejected" and "CustomerNumber" in refused["reason"]
    assert refused["error_log_key"] is None


def _refusing_the_first_event_of(org: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The local bus refuses the first Import Finished of `org`; the job ids it refused."""
    from moto.events.models import EventsBackend

    put_events = EventsBackend.put_events
    refused: list[str] = []

    def refusing_once(self, events):  # type: ignore[no-untyped-def]
        mine = [e for e in events if json.loads(e.get("Detail") or "{}").get("org_id") == org]
        if mine and not refused:
            refused.append(json.loads(mine[0]["Detail"])["job_id"])
            return [{"ErrorCode": "InternalFailure", "ErrorMessage": "Try again"} for _ in events]
        return put_events(self, events)

    monkeypatch.setattr(EventsBackend, "put_events", refusing_once)
    return refused


def test_an_ending_eventbridge_refused_once_is_announced_by_finalize_s_retry(
    stack, driver, org, subscriber, eventually, monkeypatch
) -> None:
    # Given an event bus that refuses the first Import Finished of this organisation
    refused = _refusing_the_first_event_of(org, monkeypatch)

    # When a file is imported
    job = driver.run(org, techman_csv([row("1", "Ann Lee")]))

    # Then Finalize's Retry ran it again and announced the ending: the job completed, its
    # execution succeeded, and the subscriber received the event once
    assert refused == [job.job_id] and job.status == "completed"

    def ended() -> bool:
        return [e["status"] for e in executions_for(stack, job.job_id)] != ["RUNNING"]

    eventually(ended, 60)
    [execution] = executions_for(stack, job.job_id)
    assert execution["status"] == "SUCCEEDED", execution
    [event] = _received(subscriber, org)
    assert event["detail"]["event_id"] == f"{job.job_id}:completed:0"


def test_a_cancel_eventbridge_refused_ends_the_execution_and_cancel_job_announces_it(
    stack, driver, org, subscriber, eventually, monkeypatch
) -> None:
    # Given a job waiting for its decision, and an event bus that refuses its first ending
    job = driver.upload(org, techman_csv([row("1", "Ann Lee")]))
    driver.wait_for(org, job.job_id, {"ready"})
    refused = _refusing_the_first_event_of(org, monkeypatch)

    # When a person cancels it
    cancelled = driver.components.pipeline.cancel(org, job.job_id, "alice")

    # Then the cancel answered, the execution ended through its Cancelled branch at once (not
    # at the decision timeout), and CancelJob announced the ending: the subscriber got it once
    assert refused == [job.job_id] and cancelled.status == "cancelled"
    eventually(lambda: executions_for(stack, job.job_id)[0]["status"] == "SUCCEEDED", 30)
    [event] = _received(subscriber, org)
    assert event["detail"]["event_id"] == f"{job.job_id}:cancelled:0"
    assert driver.components.pipeline.job(org, job.job_id).announced_event_id == (
        f"{job.job_id}:cancelled:0"
    )


WAIT_SCRIPT = """
set -u
job=$1
$CLI jobs wait "$job" --org "$ORG" --timeout 120
case $? in
  0) echo "ERP: imported cleanly" ;;
  4) echo "ERP: imported, with rows to fix" ;;
  3) echo "ERP: waiting for a person" ;;
  2) echo "ERP: file rejected" ;;
  *) echo "ERP: failed" ;;
esac
"""


def test_jobs_wait_tells_a_shell_script_how_each_job_ended(stack, org, tmp_path) -> None:
    # Given a job held for its decision, and a script an ERP runs after each drop
    state_file = running(stack, tmp_path)
    path = tmp_path / "held.csv"
    path.write_bytes(techman_csv([row("1", "Ann Lee"), row("2", "Bob Bad", Phone="1")]))
    held = cli(["run", str(path), "--org", org, "--hold", "--json"], state_file, tmp_path)
    assert held.returncode == 0, held.stderr
    job_id = json.loads(held.stdout.splitlines()[-1])["job_id"]
    script = tmp_path / "after-drop.sh"
    script.write_text(WAIT_SCRIPT, encoding="utf-8")
    env = {
        **os.environ,
        "CUSTOMER_IMPORT_STATE_FILE": str(state_file),
        "CLI": " ".join(CLI),
        "ORG": org,
    }

    def after_drop(job: str) -> str:
        ran = subprocess.run(
            ["bash", str(script), job], env=env, cwd=tmp_path, capture_output=True, text=True
        )
        assert ran.returncode == 0, ran.stderr
        return ran.stdout

    # When the script waits for it, then again once a person decided
    waiting = after_drop(job_id)
    decided = cli(["decide", job_id, "--org", org, "--default", "skip"], state_file, tmp_path)
    assert decided.returncode == 0, decided.stderr
    ended = after_drop(job_id)

    # Then it said the job waited, then that it imported with a row to fix
    assert f"{job_id} ready" in waiting and "ERP: waiting for a person" in waiting
    assert "completed_with_errors" in ended and "ERP: imported, with rows to fix" in ended
    # And `--json` prints the job as the API has it
    as_json = cli(["jobs", "wait", job_id, "--org", org, "--json"], state_file, tmp_path)
    assert as_json.returncode == 4
    assert json.loads(as_json.stdout)["status"] == "completed_with_errors"
