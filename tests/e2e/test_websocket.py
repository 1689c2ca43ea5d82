"""Live progress over a real local WebSocket, and the management API's 410 for gone clients."""

from __future__ import annotations

import contextlib
import json
from urllib.parse import urlencode

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from customer_import.adapters.dynamo import ConnectionModel
from customer_import.jobs import JobOptions
from websockets.sync.client import connect

from tests.unit.techman_files import customers, techman_csv


@contextlib.contextmanager
def subscribe(stack, org: str, job_id: str):
    with connect(f"{stack.endpoints.websocket_url}/?{urlencode({'org': org})}") as connection:
        connection.send(json.dumps({"action": "subscribe", "job_id": job_id}))
        yield connection


def messages_until_final(connection) -> list[dict]:
    received = []
    while True:
        message = json.loads(connection.recv(timeout=60))
        received.append(message)
        if message["status"] in ("completed", "completed_with_errors", "failed", "rejected"):
            return received


def test_a_subscriber_follows_a_job_from_upload_to_completed(driver, stack, org) -> None:
    # Given a pending job and a client subscribed to it before the upload
    created = driver.components.pipeline.create_upload(
        org, "main", "techman", "f.csv", JobOptions(auto_run=True), "t"
    )
    with subscribe(stack, org, created.job.job_id) as client:
        received = [json.loads(client.recv(timeout=10))]
        # When the file is uploaded (250 customers: three batches)
        upload = requests.post(
            created.post["url"],
            data=created.post["fields"],
            files={"file": ("f.csv", techman_csv(customers(250)))},
            timeout=30,
        )
        assert upload.status_code == 204
        received += messages_until_final(client)
    # Then it heard the current state first, each state change, a progress message per batch,
    # and the final counts
    assert received[0]["type"] == "state" and received[0]["status"] == "pending"
    progress = [m for m in received if m["type"] == "progress"]
    # (batches run concurrently, so they may finish in any order)
    assert len(progress) == 3 and max(m["processed"] for m in progress) == 250
    assert {"validating", "preparing", "importing"} <= {m["status"] for m in received}
    final = received[-1]
    assert (final["type"], final["status"], final["imported"], final["total"]) == (
        "completed",
        "completed",
        250,
        250,
    )


def test_a_late_subscriber_gets_the_current_state(driver, stack, org) -> None:
    # Given a job that already completed
    job = driver.run(org, techman_csv(customers(2)))
    # When someone subscribes afterwards
    with subscribe(stack, org, job.job_id) as client:
        message = json.loads(client.recv(timeout=10))
    # Then the first message says where the job is
    assert (message["type"], message["status"], message["imported"]) == ("state", "completed", 2)


def test_another_organisation_cannot_subscribe(driver, stack, org) -> None:
    # Given a job of one organisation
    job = driver.run(org, techman_csv(customers(1)))
    # When a client of another organisation subscribes to it
    with subscribe(stack, "someone-else", job.job_id) as client:
        message = json.loads(client.recv(timeout=10))
    # Then it is told the job does not exist, and hears nothing of it
    assert message == {"type": "error", "status": 404, "message": "job not found"}


def test_posting_to_an_unknown_connection_answers_410_gone(stack) -> None:
    # Given the management API of the stack
    client = boto3.client("apigatewaymanagementapi", endpoint_url=stack.endpoints.endpoint_url)
    # When a handler posts to a connection that does not exist
    with pytest.raises(ClientError) as raised:
        client.post_to_connection(ConnectionId="bm90LWEtY29ubmVjdGlvbg==", Data=b"{}")
    # Then API Gateway's answer comes back: 410 GoneException
    assert raised.value.response["Error"]["Code"] == "GoneException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_a_closed_client_is_forgotten_and_never_fails_the_push(
    driver, stack, org, eventually
) -> None:
    # Given a subscriber that closed its connection without saying goodbye
    job = driver.run(org, techman_csv(customers(1)))
    with subscribe(stack, org, job.job_id) as client:
        json.loads(client.recv(timeout=10))
        [connection_id] = driver.components.connections.subscribers(job.job_id)
        stack._gateway._connections.pop(connection_id)  # the socket is gone, $disconnect never came
        # When the job's subscribers are told something
        sent = driver.components.broadcaster.publish(job)
    # Then the push answered 410, nobody was told, and the connection record is gone
    assert sent == 0
    assert driver.components.connections.subscribers(job.job_id) == []
    with pytest.raises(ConnectionModel.DoesNotExist):
        ConnectionModel.get(connection_id)
